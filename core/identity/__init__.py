"""Identity and access: users, roles, permissions, tokens, API keys."""
