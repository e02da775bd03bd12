"""The REST API client: the stored login (config), the HTTP client (api) and the wire types it returns (models)."""
