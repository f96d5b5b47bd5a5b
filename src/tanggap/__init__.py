"""Tanggap: a trust-and-safety service for messaging platforms with public channels."""

__version__ = "0.1.0"
