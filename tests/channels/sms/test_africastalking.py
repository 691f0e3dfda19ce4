from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import parse_qsl

import httpx
import pytest

from channels.base import DeliveryStatus
from channels.errors import AuthError, ProviderError, RecipientOptedOut
from channels.sms.africastalking import AfricasTalkingSender, parse_date, parse_delivery_report, parse_inbound
from channels.sms.base import SendResult
from flows.messages import ChannelName, Inbound

DATA = Path(__file__).parents[1] / "data" / "sms"
Handler = Callable[[httpx.Request], httpx.Response]


def form(name: str) -> dict[str, str]:
    return dict(parse_qsl((DATA / name).read_text().strip(), keep_blank_values=True))


def at_inbound(message_id: str, phone: str, text: str, received_at: datetime, link_id: str | None = None) -> Inbound:
    return Inbound(
        channel=ChannelName.SMS,
        provider="africastalking",
        binding="21512",
        phone_e164=phone,
        text=text,
        session_key=phone,
        provider_message_id=message_id,
        received_at=received_at,
        reply_token=link_id,
    )


INBOUND = {
    "at_sms_inbound.form": at_inbound(
        "ec9adc86-51d5-4bc8-8eb0-d8ab0bb53dc3",
        "+254791541111",
        "Msg",
        datetime(2017, 5, 3, 6, 4, 45, tzinfo=UTC),
        link_id="03090445075804249226",
    ),
    "constructed_at_sms_inbound_space_date.form": at_inbound(
        "5f1b2c3d-0000-4bc8-8eb0-d8ab0bb53dc4", "+254712345678", "Salio", datetime(2017, 5, 24, 16, 45, 15, tzinfo=UTC)
    ),
    "constructed_at_sms_inbound_millis.form": at_inbound(
        "0d1f9a3e-0000-4bc8-8eb0-d8ab0bb53dc5",
        "+254712345678",
        "BAL",
        datetime(2017, 5, 24, 16, 45, 15, 236000, tzinfo=UTC),
        link_id="03090445075804249227",
    ),
    "constructed_at_sms_inbound_alphanumeric_sender.form": None,
}


@pytest.mark.parametrize("name", sorted(INBOUND))
def test_parse_inbound(name: str) -> None:
    assert parse_inbound(form(name)) == INBOUND[name]


def test_inbound_without_id_is_skipped() -> None:
    fields = form("at_sms_inbound.form")
    del fields["id"]

    assert parse_inbound(fields) is None


def test_inbound_with_bad_date_keeps_the_message() -> None:
    message = parse_inbound({**form("at_sms_inbound.form"), "date": "yesterday"})

    assert message is not None
    assert message.received_at is None


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("2017-05-03T06:04:45Z", datetime(2017, 5, 3, 6, 4, 45, tzinfo=UTC)),
        ("2017-05-24T16:45:15.236Z", datetime(2017, 5, 24, 16, 45, 15, 236000, tzinfo=UTC)),
        ("2017-05-24 16:45:15", datetime(2017, 5, 24, 16, 45, 15, tzinfo=UTC)),
        ("2017-05-24T19:45:15+03:00", datetime(2017, 5, 24, 16, 45, 15, tzinfo=UTC)),
        ("", None),
        (None, None),
        ("24/05/2017", None),
    ],
)
def test_parse_date(raw: str | None, expected: datetime | None) -> None:
    assert parse_date(raw) == expected


REPORTS = {
    "at_sms_delivery_report.form": DeliveryStatus(
        "africastalking", "ATXid_dda018a640edfcc5d2ce455de3e4a6e7", "delivered"
    ),
    "constructed_at_sms_delivery_report_failed.form": DeliveryStatus(
        "africastalking",
        "ATXid_0b3cd1f2a6f74c1e8a1e1b2c3d4e5f60",
        "failed",
        error_code="UserInBlacklist",
        error_message="UserInBlacklist",
        recipient="+254712345678",
    ),
    "constructed_at_sms_delivery_report_buffered.form": DeliveryStatus(
        "africastalking", "ATXid_1c4de2f3b7085d2f9b2f2c3d4e5f6071", "sent", recipient="+254712345678"
    ),
}


@pytest.mark.parametrize("name", sorted(REPORTS))
def test_parse_delivery_report(name: str) -> None:
    assert parse_delivery_report(form(name)) == REPORTS[name]


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        ("Success", "delivered"),
        ("Sent", "sent"),
        ("Submitted", "sent"),
        ("Buffered", "sent"),
        ("Rejected", "failed"),
        ("Failed", "failed"),
        ("AbsentSubscriber", "failed"),
        ("Expired", "failed"),
    ],
)
def test_delivery_report_statuses(status: str, expected: str) -> None:
    report = parse_delivery_report({"id": "ATXid_1", "status": status})

    assert report is not None
    assert report.status == expected


@pytest.mark.parametrize("fields", [{"id": "ATXid_1", "status": "Teleported"}, {"status": "Success"}, {}])
def test_unknown_delivery_reports_are_skipped(fields: dict[str, str]) -> None:
    assert parse_delivery_report(fields) is None


def sender(handler: Handler, requests: list[httpx.Request]) -> AfricasTalkingSender:
    def recording(request: httpx.Request) -> httpx.Response:
        requests.append(request)
        return handler(request)

    http = httpx.Client(transport=httpx.MockTransport(recording))
    return AfricasTalkingSender(http, "jumbe", "at-api-key", base_url="http://sandbox.test/at/")


def respond(payload: object, status: int = 201) -> Handler:
    return lambda request: httpx.Response(status, json=payload)


def recorded_response() -> object:
    return json.loads((DATA / "at_sms_send_response.json").read_text())


def test_send_posts_the_documented_form_and_reads_the_recipient() -> None:
    requests: list[httpx.Request] = []

    result = sender(respond(recorded_response()), requests).send("+254700072929", "Salio: KES 1,200", "JUMBE")

    assert result == SendResult("ATXid_bcc7830d645ab7207ecc747d02f28411", "queued", "KES 0.8000")
    (request,) = requests
    assert str(request.url) == "http://sandbox.test/at/version1/messaging"
    assert request.headers["apiKey"] == "at-api-key"
    assert request.headers["Accept"] == "application/json"
    assert dict(parse_qsl(request.content.decode())) == {
        "username": "jumbe",
        "to": "+254700072929",
        "message": "Salio: KES 1,200",
        "bulkSMSMode": "1",
        "from": "JUMBE",
    }


def test_send_without_sender_id_omits_from() -> None:
    requests: list[httpx.Request] = []

    sender(respond(recorded_response()), requests).send("+254700072929", "hi")

    assert "from" not in dict(parse_qsl(requests[0].content.decode()))


def recipient(status_code: int, status: str) -> dict[str, object]:
    return {
        "SMSMessageData": {
            "Message": "Sent to 0/1 Total Cost: 0",
            "Recipients": [
                {
                    "cost": "0",
                    "messageId": "None",
                    "number": "+254712345678",
                    "status": status,
                    "statusCode": status_code,
                }
            ],
        }
    }


def send_error(handler: Handler) -> ProviderError:
    with pytest.raises(ProviderError) as info:
        sender(handler, []).send("+254712345678", "hi")
    return info.value


def test_201_with_a_failed_recipient_raises() -> None:
    failures = json.loads((DATA / "constructed_at_sms_send_response_failures.json").read_text())

    error = send_error(respond(failures))

    assert type(error) is ProviderError
    assert error.code == "403"
    assert error.message == "InvalidPhoneNumber"
    assert not error.transient


@pytest.mark.parametrize(
    ("code", "status", "transient"),
    [
        (401, "RiskHold", False),
        (402, "InvalidSenderId", False),
        (403, "InvalidPhoneNumber", False),
        (405, "InsufficientBalance", False),
        (407, "CouldNotRoute", False),
        (500, "InternalServerError", True),
        (501, "GatewayError", True),
        (502, "RejectedByGateway", True),
    ],
)
def test_recipient_status_codes(code: int, status: str, transient: bool) -> None:
    error = send_error(respond(recipient(code, status)))

    assert type(error) is ProviderError
    assert error.transient is transient
    assert error.code == str(code)


def test_blacklisted_recipient_has_opted_out() -> None:
    assert isinstance(send_error(respond(recipient(406, "UserInBlacklist"))), RecipientOptedOut)


def test_status_code_as_a_string_is_understood() -> None:
    payload = recorded_response()
    assert isinstance(payload, dict)
    payload["SMSMessageData"]["Recipients"][0]["statusCode"] = "101"

    assert sender(respond(payload), []).send("+254700072929", "hi").status == "sent"


def test_no_recipients_raises_with_the_summary() -> None:
    error = send_error(respond({"SMSMessageData": {"Message": "InvalidSenderId", "Recipients": []}}))

    assert error.message == "InvalidSenderId"
    assert not error.transient


def test_http_401_is_auth_error() -> None:
    error = send_error(lambda r: httpx.Response(401, text="The supplied authentication is invalid"))

    assert isinstance(error, AuthError)
    assert error.message == "The supplied authentication is invalid"


@pytest.mark.parametrize(("status", "transient"), [(500, True), (503, True), (429, True), (400, False)])
def test_http_errors(status: int, transient: bool) -> None:
    error = send_error(lambda r: httpx.Response(status, text="nope"))

    assert error.transient is transient
    assert error.status_code == status


def test_network_error_is_transient() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused")

    assert send_error(handler).transient


def test_api_key_is_not_in_the_repr() -> None:
    assert "at-api-key" not in repr(sender(respond({}), []))
