"""Telegram's HTML parse mode, as its parser (tdlib's parse_html) reads it.

`format_text` turns what a bot sends into what a person sees — visible text and entities — or
raises `TextError` carrying the description Telegram answers with. Offsets and lengths are in
UTF-16 code units, as Telegram counts them.

One deliberate strictness: Telegram shows an unknown entity such as `&nbsp;` literally, which is
never what a bot meant, so a complete but unknown entity (`&name;`, or an invalid `&#NN;`) is
refused here. A bare `&` that does not form an entity stays literal, as in Telegram.
"""

from __future__ import annotations

import re
from typing import Any

TAG_ENTITIES = {
    "b": "bold", "strong": "bold", "i": "italic", "em": "italic",
    "u": "underline", "ins": "underline", "s": "strikethrough", "strike": "strikethrough",
    "del": "strikethrough", "span": "spoiler", "tg-spoiler": "spoiler", "a": "text_link",
    "tg-emoji": "custom_emoji", "code": "code", "pre": "pre", "blockquote": "blockquote",
}  # fmt: skip
NAMED = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
_ENTITY = re.compile(r"&(?:#x([0-9a-fA-F]+)|#([0-9]+)|([A-Za-z]+))(;?)")
_SPACE = " \t\r\n\v\f"
# Telegram trims these around a message, and measures what remains.
_TRIM = " \t\r\n"


class TextError(ValueError):
    """A refusal; str() is Telegram's description, e.g. "Bad Request: message is too long"."""


def utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def _unparsable(reason: str) -> TextError:
    return TextError(f"Bad Request: can't parse entities: {reason}")


def _decode_entity(text: str, i: int, strict: bool) -> tuple[str, int] | None:
    """The character of the entity at text[i] == "&" and the index after it; None if literal."""
    match = _ENTITY.match(text, i)
    if match is None:
        return None
    hexa, decimal, name, semicolon = match.groups()
    if name is not None:
        char = NAMED.get(name)
    else:
        code = int(hexa, 16) if hexa is not None else int(decimal)
        valid = 0 < code < 0x10FFFF and not 0xD800 <= code <= 0xDFFF
        char = chr(code) if valid else None
    if char is None:
        if strict and semicolon:
            offset = len(text[:i].encode())
            raise _unparsable(f'Unsupported HTML entity "{match[0]}" at byte offset {offset}')
        return None
    return char, match.end()


def _unescape(value: str) -> str:
    out, i = [], 0
    while i < len(value):
        decoded = _decode_entity(value, i, strict=False) if value[i] == "&" else None
        char, i = decoded if decoded else (value[i], i + 1)
        out.append(char)
    return "".join(out)


def _start_tag(text: str, begin: int) -> tuple[str, str, bool, int]:
    """Reads the start tag at text[begin] == "<": name, argument, expandable, index after it."""
    at = len(text[:begin].encode())
    i = begin + 1
    while i < len(text) and text[i] not in _SPACE and text[i] != ">":
        i += 1
    if i >= len(text):
        raise _unparsable(f"Unclosed start tag at byte offset {at}")
    tag = text[begin + 1 : i].lower()
    if tag not in TAG_ENTITIES:
        raise _unparsable(f'Unsupported start tag "{tag}" at byte offset {at}')
    argument, expandable = "", False
    while True:
        while i < len(text) and text[i] in _SPACE:
            i += 1
        if i >= len(text):
            raise _unparsable(f'Unclosed start tag "{tag}" at byte offset {at}')
        if text[i] == ">":
            break
        name_start = i
        while i < len(text) and text[i] not in _SPACE and text[i] not in "=>":
            i += 1
        name = text[name_start:i].lower()
        while i < len(text) and text[i] in _SPACE:
            i += 1
        if i >= len(text) or text[i] != "=":
            if tag == "blockquote" and name == "expandable":
                expandable = True
                continue
            raise _unparsable(
                "Expected equal sign in declaration of an attribute of the tag "
                f'"{tag}" at byte offset {at}'
            )
        i += 1
        while i < len(text) and text[i] in _SPACE:
            i += 1
        if i >= len(text):
            raise _unparsable(f'Unclosed start tag "{tag}" at byte offset {at}')
        if text[i] in "'\"":
            end = text.find(text[i], i + 1)
            if end < 0:
                raise _unparsable(f"Unclosed start tag at byte offset {at}")
            value, i = _unescape(text[i + 1 : end]), end + 1
        else:
            token_start = i
            while i < len(text) and (text[i].isalnum() or text[i] in ".-"):
                i += 1
            value = text[token_start:i].lower()
        if i < len(text) and text[i] not in _SPACE and text[i] != ">":
            raise _unparsable(f"Unexpected end of name token at byte offset {at}")
        if (tag, name) in (("a", "href"), ("tg-emoji", "emoji-id")):
            argument = value
        elif tag == "code" and name == "class" and value.startswith("language-"):
            argument = value.removeprefix("language-")
        elif tag == "span" and name == "class" and value.startswith("tg-"):
            argument = value.removeprefix("tg-")
    if tag == "span" and argument != "spoiler":
        raise _unparsable(f'Tag "span" must have class "tg-spoiler" at byte offset {at}')
    if tag == "tg-emoji" and not argument.isdigit():
        raise _unparsable("Invalid custom emoji identifier specified")
    return tag, argument, expandable, i + 1


def _end_tag(text: str, begin: int) -> tuple[str, int, int]:
    """Reads the end tag at text[begin:] == "</…": name, byte offset, index after it."""
    at = len(text[:begin].encode())
    end = begin + 2
    while end < len(text) and text[end] not in _SPACE and text[end] != ">":
        end += 1
    name = text[begin + 2 : end].lower()
    while end < len(text) and text[end] in _SPACE:
        end += 1
    if end >= len(text) or text[end] != ">":
        raise _unparsable(f"Unclosed end tag at byte offset {at}")
    return name, at, end + 1


_MENTION = re.compile(r"tg://user\?id=(\d+)")


def _entity(tag: str, argument: str, expandable: bool, offset: int, end: int) -> dict[str, Any]:
    entity: dict[str, Any] = {"type": TAG_ENTITIES[tag], "offset": offset, "length": end - offset}
    if tag == "a" and (mention := _MENTION.fullmatch(argument)):
        # An inline mention: Telegram turns the link into the user it names.
        entity["type"] = "text_mention"
        entity["user"] = {"id": int(mention[1]), "is_bot": False, "first_name": "User"}
    elif tag == "a":
        entity["url"] = argument
    elif tag == "tg-emoji":
        entity["custom_emoji_id"] = argument
    elif tag == "code" and argument:
        entity["language"] = argument
    elif tag == "blockquote" and expandable:
        entity["type"] = "expandable_blockquote"
    return entity


def parse_html(text: str) -> tuple[str, list[dict[str, Any]]]:
    """Visible text and entities of an HTML-formatted text, or TextError."""
    out: list[str] = []
    entities: list[dict[str, Any]] = []
    open_tags: list[tuple[str, str, bool, int, int]] = []  # tag, argument, expandable, offsets
    utf16 = i = 0
    while i < len(text):
        char = text[i]
        if char == "&" and (decoded := _decode_entity(text, i, strict=True)):
            char, i = decoded
        elif char != "<":
            i += 1
        elif text.startswith("</", i):
            name, at, i = _end_tag(text, i)
            if not open_tags:
                raise _unparsable(f"Unexpected end tag at byte offset {at}")
            tag, argument, expandable, offset, out_at = open_tags.pop()
            if name and name != tag:
                expected = f'expected "</{tag}>", found "</{name}>"'
                raise _unparsable(f"Unmatched end tag at byte offset {at}, {expected}")
            if tag == "a" and not argument:
                argument = "".join(out[out_at:])
            if utf16 > offset:
                entity = _entity(tag, argument, expandable, offset, utf16)
                last = entities[-1] if entities else None
                # <pre><code class="language-x">…</code></pre> is one pre entity with a language.
                if tag == "pre" and last and last["type"] == "code" and last["offset"] == offset:
                    if last["length"] == entity["length"]:
                        entities.pop()
                        entity.update({k: v for k, v in last.items() if k == "language"})
                entities.append(entity)
            continue
        else:
            tag, argument, expandable, i = _start_tag(text, i)
            open_tags.append((tag, argument, expandable, utf16, len(out)))
            continue
        out.append(char)
        utf16 += 2 if ord(char) > 0xFFFF else 1
    if open_tags:
        raise _unparsable(f'Can\'t find end tag corresponding to start tag "{open_tags[-1][0]}"')
    entities.sort(key=lambda e: (e["offset"], -e["length"]))
    return "".join(out), entities


def _trim(text: str, entities: list[dict[str, Any]]) -> tuple[str, list[dict[str, Any]]]:
    """Strips surrounding whitespace as Telegram does, keeping entities on the same characters."""
    stripped = text.lstrip(_TRIM)
    lead = utf16_len(text) - utf16_len(stripped)
    stripped = stripped.rstrip(_TRIM)
    size = utf16_len(stripped)
    kept = []
    for entity in entities:
        start = max(entity["offset"] - lead, 0)
        end = min(entity["offset"] + entity["length"] - lead, size)
        if end > start:
            kept.append({**entity, "offset": start, "length": end - start})
    return stripped, kept


def format_text(
    text: str | None,
    parse_mode: str | None,
    entities: list[dict[str, Any]] | None = None,
    *,
    limit: int = 4096,
    caption: bool = False,
) -> tuple[str, list[dict[str, Any]]]:
    """What a person sees of a text or caption sent with this parse mode; TextError if refused.

    Markdown modes are not checked: their text is taken as it is.
    """
    mode = (parse_mode or "").lower()
    if mode not in ("", "html", "markdown", "markdownv2"):
        raise TextError("Bad Request: unsupported parse_mode")
    if mode == "html":
        visible, found = parse_html(text or "")
    else:
        visible, found = text or "", list(entities or [])
    visible, found = _trim(visible, found)
    if not visible and not caption:
        raise TextError("Bad Request: message text is empty")
    if utf16_len(visible) > limit:
        kind = "message caption" if caption else "message"
        raise TextError(f"Bad Request: {kind} is too long")
    return visible, found
