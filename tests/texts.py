"""What a text reads in a locale, straight from the catalogs the bot uses."""

from __future__ import annotations

from bot.i18n import create_i18n

_I18N = create_i18n("fr")


def t(locale: str, msgid: str, **values: object) -> str:
    text = _I18N.gettext(msgid, locale=locale)
    return text.format(**values) if values else text


def tn(locale: str, singular: str, plural: str, n: int, **values: object) -> str:
    return _I18N.gettext(singular, plural, n, locale=locale).format(**values)
