"""Pure detection engines: no database, no HTTP."""
