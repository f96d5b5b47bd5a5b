"""Public posts and their media hashes: ingest (authors as pseudonyms) and the port through which
detection sees each post. Domain layer."""
