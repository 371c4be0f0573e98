"""The API contract: the route -> model registry and the OpenAPI 3.1 builder."""
