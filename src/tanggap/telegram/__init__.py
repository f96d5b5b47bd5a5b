"""Telegram: the connector that reads public chats and applies takedowns, and the flaggers' bot."""
