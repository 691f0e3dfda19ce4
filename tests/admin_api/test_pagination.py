"""Cursor pagination: newest first, no gaps or repeats, opaque cursors, bounded limits."""

from __future__ import annotations

import pytest

from admin_api import pagination
from tests.admin_api.conftest import BOTH, Caller


def _add_members(admin: Caller, n: int) -> None:
    rows = "".join(f"07120007{i:02d},Paged Person {i}\n" for i in range(n))
    assert (
        admin.post("/imports/members", content="phone,name\n" + rows, headers={"Content-Type": "text/csv"}).status_code
        == 201
    )


@BOTH
def test_walking_the_pages_sees_everyone_once(admin: Caller) -> None:
    _add_members(admin, 25)
    seen: list[int] = []
    cursor = None
    pages = 0
    while True:
        query = "?limit=10" + (f"&cursor={cursor}" if cursor else "")
        page = admin.get("/members" + query).json()
        seen += [m["id"] for m in page["data"]]
        pages += 1
        if not page["has_more"]:
            assert page["next_cursor"] is None
            break
        cursor = page["next_cursor"]
    assert pages == 3
    assert len(seen) == 30 and len(set(seen)) == 30
    assert seen == sorted(seen, reverse=True)


def test_filters_and_pages_combine(admin: Caller) -> None:
    _add_members(admin, 12)
    first = admin.get("/members?q=paged&limit=5").json()
    assert len(first["data"]) == 5 and first["has_more"]
    rest = admin.get(f"/members?q=paged&limit=100&cursor={first['next_cursor']}").json()
    assert len(rest["data"]) == 7 and not rest["has_more"]
    assert all("Paged" in m["name"] for m in first["data"] + rest["data"])


def test_a_page_that_ends_exactly_has_no_cursor(admin: Caller) -> None:
    page = admin.get("/members?limit=5").json()
    assert len(page["data"]) == 5 and page["has_more"] is False and page["next_cursor"] is None


@pytest.mark.parametrize("query", ["limit=0", "limit=101", "limit=-1", "limit=ten"])
def test_limit_out_of_range_is_422(admin: Caller, query: str) -> None:
    response = admin.get("/members?" + query)
    assert response.status_code == 422
    assert response.json()["error"]["field"] == "limit"


@pytest.mark.parametrize("cursor", ["garbage", "djE6", "djE6LTE", "djI6NQ", "%00", "djE6OTk5OTk5OTk5OTk5OTk5OTk5OTk5"])
def test_foreign_cursors_are_422(admin: Caller, cursor: str) -> None:
    response = admin.get(f"/members?cursor={cursor}")
    assert response.status_code == 422
    assert response.json()["error"]["field"] == "cursor"


def test_cursor_round_trip() -> None:
    assert pagination.decode(pagination.encode(12345)) == 12345
