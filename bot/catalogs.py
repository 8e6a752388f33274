"""Re-extracts the texts from the code and updates every catalog (`collective i18n`)."""

from __future__ import annotations

from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po, write_po

from bot.config import LOCALES
from bot.i18n import DOMAIN, LOCALES_DIR

ROOT = LOCALES_DIR.parent
SOURCES = ("bot", "handlers", "storage")
KEYWORDS = {"_": None, "__": None, "N_": None, "ngettext": (1, 2)}


def extract() -> Catalog:
    template = Catalog(project="La Collective", fuzzy=False)
    for folder in SOURCES:
        for filename, lineno, message, comments, context in extract_from_dir(
            ROOT / folder,
            method_map=[("**.py", "python")],
            keywords=KEYWORDS,
            comment_tags=("TRANSLATORS:",),
            strip_comment_tags=True,
        ):
            template.add(
                message,
                None,
                [(f"{folder}/{filename}", lineno)],
                auto_comments=comments,
                context=context,
            )
    return template


def po_path(locale: str) -> Path:
    return LOCALES_DIR / locale / "LC_MESSAGES" / f"{DOMAIN}.po"


def update() -> list[Path]:
    """Writes messages.pot and merges it into each locale's .po; returns the files written."""
    template = extract()
    written = [LOCALES_DIR / f"{DOMAIN}.pot"]
    with written[0].open("wb") as out:
        write_po(out, template, width=99, omit_header=False)
    for locale in LOCALES:
        path = po_path(locale)
        if path.exists():
            with path.open("rb") as source:
                catalog = read_po(source, locale=locale)
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            catalog = Catalog(locale=locale, project="La Collective", fuzzy=False)
        catalog.update(template, no_fuzzy_matching=True)
        with path.open("wb") as out:
            write_po(out, catalog, width=99, ignore_obsolete=True)
        written.append(path)
    return written
