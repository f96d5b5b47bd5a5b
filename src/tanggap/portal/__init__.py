"""The flagger portal: server-rendered pages over the same services as the API."""
