"""PynamoDB models and the repositories that hide them from the rest of the code."""
