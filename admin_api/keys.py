"""API keys of the organisation: list, create (the secret is shown once), revoke."""

from __future__ import annotations

from pydantic import BaseModel, Field
from sqlmodel import select

from admin_api.operations import Call, op
from admin_api.pagination import paginate
from admin_api.schemas import Input, Page, PageQuery, Str, Utc
from core import apikeys
from core.tables import ApiKey

TAG = "api-keys"


class KeyOut(BaseModel):
    id: int
    name: str
    prefix: str = Field(description="The key's visible start; identifies it in lists and the audit log.")
    scopes: list[str]
    created_at: Utc
    last_used_at: Utc | None
    revoked_at: Utc | None

    @classmethod
    def of(cls, key: ApiKey) -> KeyOut:
        assert key.id is not None
        return cls(
            id=key.id,
            name=key.name,
            prefix=key.prefix,
            scopes=sorted(apikeys.scopes_of(key)),
            created_at=key.created_at,
            last_used_at=key.last_used_at,
            revoked_at=key.revoked_at,
        )


class KeyCreated(KeyOut):
    key: str = Field(description="The secret, shown this once; store it now. Send as `Authorization: Bearer ...`.")


class KeyCreate(Input):
    name: Str = Field(min_length=1, max_length=120)
    scopes: list[Str] = Field(min_length=1, max_length=20, description="e.g. ['members:read', 'payments:read'].")


@op(
    "GET",
    "/api-keys",
    "api_keys.list",
    "List API keys (never their secrets)",
    tag=TAG,
    scope="admin",
    query=PageQuery,
    response=Page[KeyOut],
)
def list_keys(call: Call) -> Page[KeyOut]:
    q: PageQuery = call.query
    query = select(ApiKey).where(ApiKey.org_id == call.org_id)
    return paginate(call.uow, query, ApiKey.id, limit=q.limit, cursor=q.cursor, convert=KeyOut.of)


# Not idempotent on purpose: replaying would need the plaintext key stored, which defeats hashing it.
@op(
    "POST",
    "/api-keys",
    "api_keys.create",
    "Create a key; its secret is in this response only",
    tag=TAG,
    scope="admin",
    body=KeyCreate,
    response=KeyCreated,
    status=201,
)
def create_key(call: Call) -> KeyCreated:
    body: KeyCreate = call.body
    key, token = apikeys.create(call.uow, call.org_id, body.name, body.scopes)
    return KeyCreated(**KeyOut.of(key).model_dump(), key=token)


@op(
    "POST",
    "/api-keys/{key_id}/revoke",
    "api_keys.revoke",
    "Revoke a key at once (it cannot be undone)",
    tag=TAG,
    scope="admin",
    response=KeyOut,
)
def revoke_key(call: Call) -> KeyOut:
    key = apikeys.get(call.uow, call.org_id, call.params["key_id"])
    apikeys.revoke(key, call.now())
    call.uow.session.add(key)
    return KeyOut.of(key)


operations = [list_keys, create_key, revoke_key]
