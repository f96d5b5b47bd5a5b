"""Channels domain."""
