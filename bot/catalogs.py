"""Re-extracts the texts from the code and updates every catalog (`collective i18n`), each
translation set in its language's typography (bot/typography.py).

`python -m bot.catalogs --typography` applies the typography alone, to the catalogs as they
are (no extraction): run it under the catalogs' lock when others may be appending to them."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po, write_po

from bot.config import LOCALES
from bot.i18n import DOMAIN, LOCALES_DIR
from bot.typography import fix

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
        typeset(catalog)
        with path.open("wb") as out:
            write_po(out, catalog, width=99, ignore_obsolete=True)
        written.append(path)
    return written


def typeset(catalog: Catalog) -> int:
    """Sets every translation of `catalog` in its language's typography; returns how many
    messages changed (none, the second time)."""
    locale = str(catalog.locale)
    changed = 0
    for message in catalog:
        if not message.id or not message.string:
            continue
        msgid = message.id if isinstance(message.id, str) else str(message.id[0])
        original = message.string
        if isinstance(original, (tuple, list)):
            original = tuple(original)
            strings: str | tuple[str, ...] = tuple(fix(msgid, s, locale) for s in original)
        else:
            strings = fix(msgid, str(original), locale)
        if strings != original:
            message.string = strings
            changed += 1
    return changed


def typeset_files(locales: Sequence[str] = LOCALES) -> dict[str, int]:
    """The typography applied to each catalog file in place, nothing else changed."""
    changed = {}
    for locale in locales:
        path = po_path(locale)
        if not path.exists():
            continue
        with path.open("rb") as source:
            catalog = read_po(source, locale=locale)
        changed[locale] = typeset(catalog)
        if changed[locale]:
            with path.open("wb") as out:
                write_po(out, catalog, width=99)
    return changed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bot.catalogs", description=__doc__)
    parser.add_argument(
        "--typography",
        action="store_true",
        help="only set the catalogs' translations in their typography (no extraction)",
    )
    parser.add_argument(
        "--locale",
        action="append",
        choices=LOCALES,
        help="with --typography: only this catalog (may be repeated; default: all)",
    )
    args = parser.parse_args(argv)
    if args.typography:
        for locale, count in typeset_files(args.locale or LOCALES).items():
            print(f"{po_path(locale)}: {count} messages set in typography")
        return 0
    for path in update():
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
