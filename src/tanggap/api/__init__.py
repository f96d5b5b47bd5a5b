"""The JSON API, one module per resource: parse, authorise, call one service, shape the answer."""
