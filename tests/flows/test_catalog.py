"""The string catalog: every key in every language, with the same placeholders."""

from __future__ import annotations

from flows.i18n import LANGUAGES, catalog, placeholders


def test_every_key_exists_in_every_language() -> None:
    keys = {lang: set(catalog(lang)) for lang in LANGUAGES}
    every = set().union(*keys.values())
    for lang in LANGUAGES:
        assert not every - keys[lang], f"{lang} lacks {sorted(every - keys[lang])}"


def test_placeholders_agree_across_languages() -> None:
    english = catalog("en")
    for lang in LANGUAGES:
        for key, text in catalog(lang).items():
            assert placeholders(text) == placeholders(english[key]), f"{lang}:{key}"


def test_no_empty_strings() -> None:
    for lang in LANGUAGES:
        assert all(text.strip() for text in catalog(lang).values())
