"""Retention and erasure: purging each kind of data at its age, and erasing one author's data
when the platform asks (docs/retention.md)."""
