"""Partner clients: OAuth2 client credentials owned by an organisation, narrowed by scopes."""
