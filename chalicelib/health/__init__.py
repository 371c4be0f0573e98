"""GET /health: the publisher's and the database's state."""
