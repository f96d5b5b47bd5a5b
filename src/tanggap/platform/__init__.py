"""Platform domain."""
