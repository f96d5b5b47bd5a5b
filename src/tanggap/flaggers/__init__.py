"""Flaggers domain."""
