"""Database plumbing: engine and session factory, declarative base, migrations."""
