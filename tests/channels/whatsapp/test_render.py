from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from channels.whatsapp.render import (
    BACK_ID,
    MORE_ID,
    page_count,
    render,
    shorten,
    split_text,
    template_message,
)
from flows.messages import End, Menu, Option, Prompt, Text

LABELS = {"more": "Zaidi", "back": "Rudi", "home": "Mwanzo", "choose": "Chagua", "reply_with": "Jibu"}
TO = "+254712345678"
ENVELOPE = {"messaging_product": "whatsapp", "recipient_type": "individual", "to": TO}


def options(count: int) -> tuple[Option, ...]:
    return tuple(Option(f"o{i}", f"Option {i}") for i in range(1, count + 1))


def rows(body: dict[str, Any]) -> list[dict[str, Any]]:
    (section,) = body["interactive"]["action"]["sections"]
    return list(section["rows"])


@pytest.mark.parametrize(
    "message", [Text("Salio lako ni KES 1,200"), Prompt("Weka PIN", "pin", secret=True), End("Asante")]
)
def test_text_like_messages(message: Text | Prompt | End) -> None:
    assert render([message], TO, labels=LABELS) == [
        {**ENVELOPE, "type": "text", "text": {"preview_url": False, "body": message.body}}
    ]


def test_menu_of_three_is_reply_buttons() -> None:
    menu = Menu(
        "Choose an account",
        (Option("savings", "Savings"), Option("shares", "Shares"), Option("loan", "Loan balance")),
        footer="Jumbe SACCO",
    )

    assert render([menu], TO, labels=LABELS) == [
        {
            **ENVELOPE,
            "type": "interactive",
            "interactive": {
                "type": "button",
                "body": {"text": "Choose an account"},
                "footer": {"text": "Jumbe SACCO"},
                "action": {
                    "buttons": [
                        {"type": "reply", "reply": {"id": "savings", "title": "Savings"}},
                        {"type": "reply", "reply": {"id": "shares", "title": "Shares"}},
                        {"type": "reply", "reply": {"id": "loan", "title": "Loan balance"}},
                    ]
                },
            },
        }
    ]


def test_long_button_titles_are_shortened_and_ids_kept() -> None:
    menu = Menu("Pay", (Option("pay_installment", "Pay this month's installment"), Option("no", "Not now")))

    (body,) = render([menu], TO, labels=LABELS)

    buttons = body["interactive"]["action"]["buttons"]
    assert buttons[0]["reply"] == {"id": "pay_installment", "title": "Pay this month's in…"}
    assert len(buttons[0]["reply"]["title"]) == 20


def test_buttons_whose_shortened_titles_collide_become_a_list() -> None:
    menu = Menu("Pay", (Option("a", "Pay the loan installment now"), Option("b", "Pay the loan installment later")))

    (body,) = render([menu], TO, labels=LABELS)

    assert body["interactive"]["type"] == "list"
    assert [r["description"] for r in rows(body)] == [
        "Pay the loan installment now",
        "Pay the loan installment later",
    ]


def test_menu_of_four_is_a_list() -> None:
    menu = Menu(
        "Main menu",
        (
            Option("balance", "Balance"),
            Option("statement", "Mini-statement", "Last 5 transactions"),
            Option("pay", "Pay"),
            Option("settings", "Settings"),
        ),
    )

    assert render([menu], TO, labels=LABELS) == [
        {
            **ENVELOPE,
            "type": "interactive",
            "interactive": {
                "type": "list",
                "body": {"text": "Main menu"},
                "action": {
                    "button": "Chagua",
                    "sections": [
                        {
                            "rows": [
                                {"id": "balance", "title": "Balance"},
                                {"id": "statement", "title": "Mini-statement", "description": "Last 5 transactions"},
                                {"id": "pay", "title": "Pay"},
                                {"id": "settings", "title": "Settings"},
                            ]
                        }
                    ],
                },
            },
        }
    ]


def test_menu_of_ten_is_one_list_page() -> None:
    (body,) = render([Menu("Products", options(10))], TO, labels=LABELS)

    assert [r["id"] for r in rows(body)] == [f"o{i}" for i in range(1, 11)]
    assert page_count(Menu("Products", options(10))) == 1


def test_row_limits() -> None:
    menu = Menu("M", (Option("x", "A" * 30, "d" * 100), Option("y", "B" * 30), Option("z", "C"), Option("w", "D")))

    (body,) = render([menu], TO, labels=LABELS)

    first, second = rows(body)[:2]
    assert first == {"id": "x", "title": "A" * 23 + "…", "description": "d" * 71 + "…"}
    assert second == {"id": "y", "title": "B" * 23 + "…", "description": "B" * 30}  # nothing is lost


def test_eleven_options_page_0_has_nine_and_more() -> None:
    menu = Menu("Products", options(11))

    (body,) = render([menu], TO, labels=LABELS)

    assert [r["id"] for r in rows(body)] == [f"o{i}" for i in range(1, 10)] + [MORE_ID]
    assert rows(body)[-1]["title"] == "Zaidi"
    assert page_count(menu) == 2


def test_eleven_options_page_1_has_the_rest_and_back() -> None:
    (body,) = render([Menu("Products", options(11))], TO, labels=LABELS, page=1)

    assert [r["id"] for r in rows(body)] == ["o10", "o11", BACK_ID]
    assert rows(body)[-1]["title"] == "Rudi"


@pytest.mark.parametrize(
    ("count", "pages"),
    [
        (11, [9, 2]),
        (18, [9, 9]),
        (19, [9, 8, 2]),
        (26, [9, 8, 9]),
        (27, [9, 8, 8, 2]),
    ],
)
def test_paging_shows_every_option_once_within_ten_rows(count: int, pages: list[int]) -> None:
    menu = Menu("Products", options(count))
    assert page_count(menu) == len(pages)

    shown: list[str] = []
    for page, expected in enumerate(pages):
        (body,) = render([menu], TO, labels=LABELS, page=page)
        ids = [r["id"] for r in rows(body)]
        assert len(ids) <= 10
        assert (MORE_ID in ids) == (page < len(pages) - 1)
        assert (BACK_ID in ids) == (page > 0)
        option_ids = [i for i in ids if i not in (MORE_ID, BACK_ID)]
        assert len(option_ids) == expected
        shown += option_ids
    assert shown == [o.id for o in menu.options]


def test_menu_page_field_is_used_when_no_page_is_given() -> None:
    (body,) = render([Menu("Products", options(11), page=1)], TO, labels=LABELS)

    assert rows(body)[0]["id"] == "o10"


def test_page_out_of_range_shows_the_last_page() -> None:
    (body,) = render([Menu("Products", options(11))], TO, labels=LABELS, page=7)

    assert rows(body)[0]["id"] == "o10"


def test_missing_labels_fall_back_to_english() -> None:
    (body,) = render([Menu("Products", options(11))], TO, labels={})

    assert body["interactive"]["action"]["button"] == "Choose"
    assert rows(body)[-1]["title"] == "More"


def test_long_menu_title_and_footer_are_shortened() -> None:
    (body,) = render([Menu("T" * 2000, options(2), footer="F" * 100)], TO, labels=LABELS)

    assert len(body["interactive"]["body"]["text"]) == 1024
    assert body["interactive"]["footer"]["text"] == "F" * 59 + "…"


def test_texts_then_menu_keep_order() -> None:
    bodies = render([Text("Paid."), Menu("Next?", options(2))], TO, labels=LABELS)

    assert [b["type"] for b in bodies] == ["text", "interactive"]


def test_long_text_is_split_at_4096_on_a_boundary() -> None:
    paragraph = ("word " * 900).strip()  # 4499 characters
    bodies = render([Text(paragraph + "\n" + "tail")], TO, labels=LABELS)

    chunks = [b["text"]["body"] for b in bodies]
    assert all(len(c) <= 4096 for c in chunks)
    assert len(chunks) == 2
    assert chunks[0].endswith("word")
    assert chunks[1].startswith("word")
    assert " ".join(chunks).split() == (paragraph + " tail").split()


def test_split_text_prefers_line_breaks() -> None:
    assert split_text("aaaa bb\ncc dd", limit=10) == ["aaaa bb", "cc dd"]


def test_split_text_cuts_a_word_longer_than_the_limit() -> None:
    assert split_text("x" * 25, limit=10) == ["x" * 10, "x" * 10, "x" * 5]


@given(st.text(alphabet="ab \n", max_size=200), st.integers(min_value=1, max_value=30))
def test_split_text_keeps_every_word_within_the_limit(body: str, limit: int) -> None:
    chunks = split_text(body, limit)

    assert all(0 < len(c) <= limit for c in chunks)
    assert "".join("".join(chunks).split()) == "".join(body.split())


def test_empty_text_sends_nothing() -> None:
    assert render([Text("  ")], TO, labels=LABELS) == []


def test_menu_without_options_is_plain_text() -> None:
    assert render([Menu("Nothing to choose", (), footer="Jumbe")], TO, labels=LABELS) == [
        {**ENVELOPE, "type": "text", "text": {"preview_url": False, "body": "Nothing to choose\nJumbe"}}
    ]
    assert render([Menu("", ())], TO, labels=LABELS) == []


def test_shorten() -> None:
    assert shorten("Balance", 20) == "Balance"
    assert shorten("x" * 21, 20) == "x" * 19 + "…"
    assert shorten("Pay the loan now please", 13) == "Pay the loan…"


def test_template_message() -> None:
    body = template_message(
        TO, "payment_reminder", "sw", ["Wanjiru", "KES 1,500\n", "15 Jun"], button_payload="pay:installment:42"
    )

    assert body == {
        **ENVELOPE,
        "type": "template",
        "template": {
            "name": "payment_reminder",
            "language": {"code": "sw"},
            "components": [
                {
                    "type": "body",
                    "parameters": [
                        {"type": "text", "text": "Wanjiru"},
                        {"type": "text", "text": "KES 1,500"},
                        {"type": "text", "text": "15 Jun"},
                    ],
                },
                {
                    "type": "button",
                    "sub_type": "quick_reply",
                    "index": "0",
                    "parameters": [{"type": "payload", "payload": "pay:installment:42"}],
                },
            ],
        },
    }


def test_template_without_parameters_has_no_components() -> None:
    assert template_message(TO, "hello_world", "en_US")["template"] == {
        "name": "hello_world",
        "language": {"code": "en_US"},
    }
