"""CSV import of members (all rows or none, with a per-row report) and CSV exports."""

from __future__ import annotations

import csv
import io
from typing import Any

from sqlmodel import func, select

from bot.bootstrap import Container
from core.tables import Member
from core.uow import UnitOfWork
from tests.admin_api.conftest import BOTH, Caller

CSV = {"Content-Type": "text/csv"}


def _members(container: Container) -> int:
    with UnitOfWork(container.db) as uow:
        return int(uow.session.exec(select(func.count()).select_from(Member)).one())


def _import(admin: Caller, text: str | bytes, query: str = "") -> Any:
    return admin.post("/imports/members" + query, content=text, headers=CSV)


@BOTH
def test_good_file_imports_every_row(admin: Caller, container: Container) -> None:
    before = _members(container)
    text = (
        "phone,name,role,language,preferred_channel\n"
        "0712000101,Achieng Atieno,member,sw,sms\n"
        "+254712000102,Baraka Kamau,agent,,whatsapp\n"
        "254712000103, Chao Mutua ,,en,\n"
    )
    response = _import(admin, text)
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["imported"] == 3 and body["rows"] == 3 and body["dry_run"] is False
    assert [m["phone"] for m in body["members"]] == ["+254712000101", "+254712000102", "+254712000103"]
    assert [m["role"] for m in body["members"]] == ["member", "agent", "member"]
    assert body["members"][2]["name"] == "Chao Mutua"
    assert _members(container) == before + 3


@BOTH
def test_bad_rows_import_nothing_and_are_each_reported(admin: Caller, container: Container) -> None:
    before = _members(container)
    text = (
        "phone,name,role,member_no\n"
        "0712000201,Good One,,\n"
        "not-a-phone,Bad Phone,,\n"
        "0712000203,,,\n"
        "0712000201,Duplicate In File,,\n"
        "+254700000001,Already A Member,,\n"
        "0712000206,Bad Role,chief,\n"
        "0712000207,Taken Number,,M00001\n"
        "0712000208,Good Two,agent,\n"
    )
    response = _import(admin, text)
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "import_rejected"
    assert [(r["row"], r["field"]) for r in error["rows"]] == [
        (3, "phone"),
        (4, "name"),
        (5, "phone"),
        (6, "phone"),
        (7, "role"),
        (8, "member_no"),
    ]
    assert _members(container) == before
    assert admin.get("/members?phone=0712000201").json()["data"] == []


def test_dry_run_checks_without_importing(admin: Caller, container: Container) -> None:
    before = _members(container)
    response = _import(admin, "phone,name\n0712000301,Dry Run\n", "?dry_run=true")
    assert response.status_code == 201
    assert response.json() == {"rows": 1, "imported": 0, "dry_run": True, "members": []}
    assert _members(container) == before


def test_unreadable_files_are_refused_clearly(admin: Caller) -> None:
    cases = {
        b"": "csv",
        b"phone\n0712000401\n": "csv",
        b"phone,name,shoe_size\n0712000402,X,42\n": "csv",
        b"phone,name\n": "csv",
        b"phone,name\n0712000403,A,extra\n": "csv",
    }
    for text, field in cases.items():
        response = _import(admin, text)
        assert response.status_code == 422, (text, response.text)
        assert response.json()["error"]["field"] == field
    latin1 = _import(admin, "phone,name\n0712000404,Zoë\n".encode("latin-1"))
    assert latin1.status_code == 400 and latin1.json()["error"]["code"] == "bad_csv"


def test_import_is_audited_without_phone_numbers(admin: Caller) -> None:
    assert _import(admin, "phone,name\n0712000501,Audit Me\n").status_code == 201
    entry = admin.get("/audit-log?action=members.import").json()["data"][0]
    assert entry["details"] == {"rows": 1}
    assert "0712000501" not in str(entry)


def test_export_round_trips_and_defuses_formulas(admin: Caller) -> None:
    created = admin.post("/members", json={"phone": "0712000601", "name": '=HYPERLINK("http://x")'})
    assert created.status_code == 201
    response = admin.get("/exports/members.csv")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    assert "attachment" in response.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert [r["member_no"] for r in rows][:2] == ["M00001", "A00002"]
    assert rows[-1]["name"].startswith("'=")
    assert rows[-1]["phone"] == "+254712000601"
    agents = list(csv.DictReader(io.StringIO(admin.get("/exports/members.csv?role=agent").text)))
    assert [r["role"] for r in agents] == ["agent"]


def test_export_needs_members_read(caller: Any) -> None:
    assert caller("payments:read").get("/exports/members.csv").status_code == 403
    assert caller("members:read").get("/exports/members.csv").status_code == 200
