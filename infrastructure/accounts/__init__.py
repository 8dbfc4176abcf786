"""Credentials beside the log (emails, password hashes, refresh, API and setup tokens as
hashes) and the workspaces read model."""
