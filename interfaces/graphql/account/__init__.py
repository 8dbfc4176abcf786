"""GraphQL of accounts: me, workspaces and their members, API tokens."""
