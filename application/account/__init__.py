"""Accounts, sessions, workspaces and API tokens: who a request is, and what they may do."""
