"""Stored first answers to requests that carried an ``Idempotency-Key``. Foundation."""
