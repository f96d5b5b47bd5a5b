"""Reviewers: their languages, clearances and availability."""
