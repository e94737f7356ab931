"""The console as the workspace's OAuth 2.0 authorization server (Authlib glue, token helpers)."""
