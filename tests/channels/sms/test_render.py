from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from channels.sms.render import page_count, render_sms
from channels.sms.segments import segments
from flows.messages import End, Menu, Option, Prompt, Text

LABELS = {"more": "Zaidi", "back": "Rudi", "home": "Mwanzo", "reply_with": "Jibu kwa nambari"}


def products(count: int, label: str = "Product number {} (500g)") -> Menu:
    return Menu("Chagua bidhaa", tuple(Option(f"p{i}", label.format(i)) for i in range(1, count + 1)))


@pytest.mark.parametrize("message", [Text("Salio: KES 1,200"), Prompt("Weka PIN", "pin", secret=True), End("Asante")])
def test_text_like_messages_are_their_body(message: Text | Prompt | End) -> None:
    assert render_sms([message], labels=LABELS) == message.body


def test_short_menu_is_one_numbered_screen() -> None:
    menu = Menu("Main menu", (Option("bal", "Balance"), Option("pay", "Pay"), Option("stmt", "Statement")))

    assert render_sms([menu], labels=LABELS) == "Main menu\n1. Balance\n2. Pay\n3. Statement\nJibu kwa nambari"
    assert page_count(menu, LABELS) == 1


def test_texts_then_menu_in_one_body() -> None:
    reply = [Text("Paid KES 500."), Menu("Next", (Option("a", "Balance"), Option("b", "Pay")), footer="Jumbe SACCO")]

    assert render_sms(reply, labels=LABELS) == "Paid KES 500.\nNext\n1. Balance\n2. Pay\nJumbe SACCO\nJibu kwa nambari"


def test_long_menu_pages_with_global_numbering() -> None:
    menu = products(12)

    pages = [render_sms([menu], labels=LABELS, page=p) for p in range(page_count(menu, LABELS))]

    assert pages == [
        "Chagua bidhaa\n1. Product number 1 (500g)\n2. Product number 2 (500g)\n3. Product number 3 (500g)\n"
        "4. Product number 4 (500g)\n98. Zaidi\nJibu kwa nambari",
        "Chagua bidhaa\n5. Product number 5 (500g)\n6. Product number 6 (500g)\n7. Product number 7 (500g)\n"
        "8. Product number 8 (500g)\n98. Zaidi\n0. Rudi\nJibu kwa nambari",
        "Chagua bidhaa\n9. Product number 9 (500g)\n10. Product number 10 (500g)\n"
        "11. Product number 11 (500g)\n12. Product number 12 (500g)\n0. Rudi\nJibu kwa nambari",
    ]
    assert all(segments(page) == 1 for page in pages)


def test_menu_page_field_is_used_when_no_page_is_given() -> None:
    menu = products(12)
    paged = Menu(menu.title, menu.options, page=2)

    assert render_sms([paged], labels=LABELS) == render_sms([menu], labels=LABELS, page=2)


def test_page_out_of_range_shows_the_last_page() -> None:
    assert render_sms([products(12)], labels=LABELS, page=9) == render_sms([products(12)], labels=LABELS, page=2)


def test_more_segments_allowed_means_fewer_pages() -> None:
    menu = products(12)

    assert page_count(menu, LABELS, max_segments=2) == 2
    assert page_count(menu, LABELS, max_segments=3) == 1
    assert "98." not in render_sms([menu], labels=LABELS, max_segments_for_menus=3)


def test_ucs2_labels_page_against_70_units() -> None:
    menu = products(6, "Bidhaa {} ’")  # the apostrophe forces UCS-2

    pages = [render_sms([menu], labels=LABELS, page=p) for p in range(page_count(menu, LABELS))]

    assert len(pages) > 1
    assert all(segments(page) == 1 for page in pages)


def test_an_option_too_long_for_a_page_still_gets_its_own_page() -> None:
    menu = Menu("M", (Option("a", "x" * 200), Option("b", "y" * 200)))

    assert page_count(menu, LABELS) == 2
    assert render_sms([menu], labels=LABELS, page=1).startswith("M\n2. " + "y" * 200)


def test_menu_without_options_has_no_reply_line() -> None:
    assert render_sms([Menu("Nothing due", (), footer="Jumbe")], labels=LABELS) == "Nothing due\nJumbe"


def test_missing_labels_fall_back_to_english() -> None:
    text = render_sms([products(12)], labels={})

    assert text.endswith("98. More\nReply with a number")


@given(
    labels=st.lists(st.text(alphabet="abcdefgh ’€", min_size=1, max_size=40), min_size=1, max_size=30),
    max_segments=st.integers(min_value=1, max_value=3),
)
def test_every_option_appears_once_with_its_global_number(labels: list[str], max_segments: int) -> None:
    menu = Menu("Chagua", tuple(Option(f"o{i}", label) for i, label in enumerate(labels)))
    count = page_count(menu, LABELS, max_segments=max_segments)

    numbers: list[int] = []
    for page in range(count):
        text = render_sms([menu], labels=LABELS, page=page, max_segments_for_menus=max_segments)
        numbers += [int(n) for n in re.findall(r"^(\d+)\. ", text, flags=re.MULTILINE) if n not in ("98", "0")]
        assert ("98. Zaidi" in text) == (page < count - 1)
        assert ("0. Rudi" in text) == (page > 0)
        page_options = [n for n in re.findall(r"^(\d+)\. ", text, flags=re.MULTILINE) if n not in ("98", "0")]
        if len(page_options) > 1:
            assert segments(text) <= max_segments
    assert numbers == list(range(1, len(labels) + 1))
