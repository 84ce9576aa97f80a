"""The controls every endpoint under /api/ shares: one JSON error format,
throttling, the ping and landing pages, and the OpenAPI hooks."""
