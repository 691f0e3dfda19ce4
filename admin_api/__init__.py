"""The admin REST API: Starlette routes over core services, API-key auth, OpenAPI."""
