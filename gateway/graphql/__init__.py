"""GraphQL schema assembly, limits and error shaping."""
