"""The message log (WhatsApp and SMS in and out), for support: phone numbers masked, PIN answers hidden."""

from __future__ import annotations

from pydantic import BaseModel, Field

from admin_api.operations import Call, op
from admin_api.pagination import decode, encode
from admin_api.schemas import Id, Instant, Page, PageQuery, Str, Utc
from core import messagelog, phones
from core.tables import Direction, MessageLog, MessageStatus

TAG = "messages"


class MessageOut(BaseModel):
    id: int
    member_id: int | None
    phone: str = Field(description="Masked: +2547****5678.")
    channel: str
    provider: str
    direction: Direction
    kind: str
    purpose: str | None
    status: MessageStatus
    error_code: str | None
    error_message: str | None
    segments: int | None
    content: str = Field(description="Answers to PIN prompts are stored as ****.")
    created_at: Utc
    sent_at: Utc | None
    delivered_at: Utc | None
    read_at: Utc | None

    @classmethod
    def of(cls, row: MessageLog) -> MessageOut:
        fields = row.model_dump(exclude={"org_id", "phone", "provider_message_id", "updated_at"})
        return cls(**fields, phone=phones.mask(row.phone))


class MessageQuery(PageQuery):
    member_id: Id | None = None
    phone: Str | None = Field(default=None, max_length=32, description="Exact number, any common form.")
    channel: Str | None = Field(default=None, max_length=10, description="whatsapp or sms.")
    direction: Direction | None = None
    status: MessageStatus | None = None
    since: Instant | None = None
    until: Instant | None = None


@op(
    "GET",
    "/messages",
    "messages.list",
    "Messages in and out, newest first",
    tag=TAG,
    scope="messages:read",
    query=MessageQuery,
    response=Page[MessageOut],
)
def list_messages(call: Call) -> Page[MessageOut]:
    q: MessageQuery = call.query
    filters = messagelog.MessageFilter(
        member_id=q.member_id,
        phone=phones.normalise(q.phone) if q.phone else None,
        channel=q.channel,
        direction=q.direction.value if q.direction else None,
        status=q.status.value if q.status else None,
        since=q.since,
        until=q.until,
    )
    found = messagelog.list_messages(
        call.uow, call.org_id, cursor=decode(q.cursor) if q.cursor else None, limit=q.limit, filters=filters
    )
    return Page[MessageOut](
        data=[MessageOut.of(row) for row in found.items],
        has_more=found.next_cursor is not None,
        next_cursor=encode(found.next_cursor) if found.next_cursor is not None else None,
    )


@op("GET", "/messages/{message_id}", "messages.get", "One message", tag=TAG, scope="messages:read", response=MessageOut)
def get_message(call: Call) -> MessageOut:
    return MessageOut.of(messagelog.get_message(call.uow, call.org_id, call.params["message_id"]))


operations = [list_messages, get_message]
