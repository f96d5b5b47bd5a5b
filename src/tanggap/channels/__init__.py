"""The platform's public channels. Domain layer (the lowest)."""
