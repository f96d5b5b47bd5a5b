"""Web domain."""
