"""The API contract: the route to model registry, the OpenAPI 3.1 builder and the docs routes."""
