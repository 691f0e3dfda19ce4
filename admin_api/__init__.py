"""The admin REST API: Starlette routes over core services, API-key auth, OpenAPI."""

from admin_api.app import create_admin

__all__ = ["create_admin"]
