"""The HTTP edge: request parsing, the one domain-error to HTTP table, gateway responses."""
