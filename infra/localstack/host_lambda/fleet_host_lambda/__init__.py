"""LocalStack's Lambda functions as host processes (LocalStack Community runs them only in Docker)."""
