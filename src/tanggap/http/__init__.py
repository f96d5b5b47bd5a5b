"""What every HTTP edge shares (the JSON API and the pages): the request's runtime, session and
caller, error mapping, body limits, idempotent writes."""
