"""``scan``: the webhook route's cheap look at a payload agrees with ``parse_webhook``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from channels.whatsapp import parse_webhook, scan

DATA = Path(__file__).parents[1] / "data" / "whatsapp"


@pytest.mark.parametrize("name", sorted(p.name for p in DATA.glob("*.json")))
def test_scan_agrees_with_parse_on_recorded_payloads(name: str) -> None:
    payload = json.loads((DATA / name).read_text())
    batch = parse_webhook(payload)
    ids, more = scan(payload)
    assert ids == [message.provider_message_id for message in batch.messages]
    assert more == bool(batch.statuses or batch.errors)


def test_reactions_and_foreign_objects_need_nothing() -> None:
    assert scan(json.loads((DATA / "constructed_reaction.json").read_text())) == ([], False)
    assert scan({"object": "page", "entry": [{"changes": [{"value": {"statuses": [{"id": "x"}]}}]}]}) == ([], False)
    assert scan([1, 2]) == ([], False)


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=8),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=30,
)


@given(junk=JSON, key=st.sampled_from(["messages", "statuses", "errors", "metadata", "entry", "changes", "value"]))
def test_scan_never_raises(junk: object, key: str) -> None:
    payload = json.loads((DATA / "whatsapp_text.json").read_text())
    value = payload["entry"][0]["changes"][0]["value"]
    value[key] = junk
    value["messages"] = [junk, {"id": junk, "type": junk}]
    scan(payload)
    scan(junk)
    scan({"object": "whatsapp_business_account", "entry": junk})
