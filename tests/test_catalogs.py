"""Every text in the code is in every catalog, translated, with the same placeholders."""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest
from babel.messages.pofile import read_po

from bot.catalogs import extract, po_path
from bot.config import LOCALES

PLACEHOLDER = re.compile(r"\{[a-z_]*\}")
TAG = re.compile(r"</?[a-z]+>")
PLURAL_COUNT = {"fr": 3, "en": 2, "ar": 6}


def catalog(locale: str):  # type: ignore[no-untyped-def]
    with po_path(locale).open("rb") as source:
        return read_po(source, locale=locale)


@pytest.fixture(scope="module")
def code_texts() -> list:  # type: ignore[type-arg]
    return [m for m in extract() if m.id]


@pytest.mark.parametrize("locale", LOCALES)
def test_every_text_in_the_code_is_translated(locale: str, code_texts: list) -> None:  # type: ignore[type-arg]
    translations = catalog(locale)
    missing = []
    for message in code_texts:
        found = translations.get(message.id)
        strings = (
            (found.string if isinstance(found.string, tuple) else (found.string,)) if found else ()
        )
        if found is None or found.fuzzy or not all(strings):
            missing.append(message.id if isinstance(message.id, str) else message.id[0])
    assert missing == []


@pytest.mark.parametrize("locale", LOCALES)
def test_translations_keep_placeholders_tags_and_plural_forms(locale: str) -> None:
    translations = catalog(locale)
    assert translations.num_plurals == PLURAL_COUNT[locale]
    for message in translations:
        if not message.id:
            continue
        source = message.id if isinstance(message.id, str) else message.id[1]
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        if isinstance(message.id, tuple):
            assert len(strings) == PLURAL_COUNT[locale], message.id
        expected = sorted(PLACEHOLDER.findall(source))
        for string in strings:
            found = sorted(PLACEHOLDER.findall(string))
            if isinstance(message.id, tuple):
                # A plural form may say the number in words (Arabic: «شهران», two months).
                assert set(found) <= set(expected), (locale, message.id)
            else:
                assert found == expected, (locale, message.id)
            assert TAG.findall(string) == TAG.findall(source), (locale, message.id)
        if isinstance(message.id, tuple):
            assert sorted(PLACEHOLDER.findall(strings[-1])) == expected, (locale, message.id)


@pytest.mark.skipif(shutil.which("msgfmt") is None, reason="GNU gettext is not installed")
@pytest.mark.parametrize("locale", LOCALES)
def test_gnu_msgfmt_accepts_the_catalog(locale: str) -> None:
    result = subprocess.run(
        ["msgfmt", "--check", "--statistics", "-o", "/dev/null", str(po_path(locale))],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    assert "untranslated" not in result.stderr and "fuzzy" not in result.stderr


def test_french_speaks_formally() -> None:
    """Vouvoiement: a city hall does not say «tu» to its citizens."""
    informal = re.compile(r"\b(tu|toi|ton|ta|tes|t'|te)\b", re.IGNORECASE)
    offenders = [
        m.string
        for m in catalog("fr")
        if m.id and isinstance(m.string, str) and informal.search(m.string)
    ]
    assert offenders == []
