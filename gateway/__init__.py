"""The HTTP edge: Litestar app, GraphQL schema assembly, health, CLI."""
