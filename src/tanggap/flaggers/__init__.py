"""Trusted flagger organisations, their members and tokens. Domain layer."""
