"""Adapters that carry actions to real platforms: a signed HTTP endpoint, Telegram."""
