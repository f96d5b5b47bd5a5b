"""Principals (who acts, in which role), bearer tokens and web logins. Foundation."""
