"""Table binding, cursors, the batch writer and idempotency records shared by every store."""
