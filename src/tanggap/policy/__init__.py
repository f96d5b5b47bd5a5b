"""Policy domain."""
