"""Statements of reasons submitted to the EU Transparency Database (DSA Art. 24(5)): built from
decisions, checked field by field, sent in batches through the outbox. Domain layer."""
