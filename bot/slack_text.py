"""Turn a Slack message back into the text the person pasted.

Slack rewrites what users type: `&`, `<`, `>` become entities (so racoon's `<=>`
arrives as `&lt;=&gt;`), addresses and domains become `<url|label>` links, mentions
become `<@U…>`, and people wrap logs in code fences. The rich_text blocks of a
message keep the typed text more faithfully, so they are preferred when present.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from knowledge.normalise import clean_text

_CONTROL = re.compile(r"<([^<>\n]*)>")
_FENCE = re.compile(r"^\s*```")
_QUOTE = re.compile(r"^&gt; ?|^> ")
_INLINE_CODE = re.compile(r"(?<!`)`([^`\n]+)`(?!`)")
_SMART_QUOTES = str.maketrans({"\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"'})


def decode_entities(text: str) -> str:
    """Only these three are encoded by Slack; `&amp;` goes last so `&amp;lt;` stays `&lt;`."""
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def _strip_mailto(target: str) -> str:
    return target.removeprefix("mailto:")


def _control(match: re.Match[str], bot_user_id: str | None) -> str:
    inner = match.group(1)
    target, _, label = inner.partition("|")
    if target.startswith("@"):
        user = target[1:]
        if bot_user_id and user == bot_user_id:
            return ""
        return "@" + (label or user)
    if target.startswith("#"):
        return "#" + (label or target[1:])
    if target.startswith("!"):
        if label:
            return label
        keyword = target[1:].split("^", 1)[0]
        return "@" + keyword
    if label:
        return label
    return _strip_mailto(target)


def unformat(text: str, bot_user_id: str | None = None) -> str:
    """Plain text from a message's `text` field (mrkdwn with Slack's control sequences)."""
    lines: list[str] = []
    for raw in text.splitlines():
        line = raw
        if _FENCE.match(line):
            # a fence may carry text on the same line: ```line one  or  last line```
            line = line.strip()[3:]
            if not line:
                continue
        if line.rstrip().endswith("```"):
            line = line.rstrip()[:-3]
            if not line.strip():
                continue
        line = _QUOTE.sub("", line)
        line = _INLINE_CODE.sub(r"\1", line)
        if bot_user_id:
            line = re.sub(rf"<@{re.escape(bot_user_id)}(?:\|[^>]*)?> ?", "", line)
        line = _CONTROL.sub(lambda m: _control(m, bot_user_id), line)
        lines.append(decode_entities(line).translate(_SMART_QUOTES))
    return "\n".join(lines).strip("\n")


def _leaf(element: Mapping[str, Any], bot_user_id: str | None) -> str:
    kind = element.get("type")
    if kind == "text":
        return decode_entities(str(element.get("text", "")))
    if kind == "link":
        return decode_entities(str(element.get("text") or _strip_mailto(str(element.get("url", "")))))
    if kind == "user":
        user = str(element.get("user_id", ""))
        return "" if bot_user_id and user == bot_user_id else "@" + user
    if kind == "channel":
        return "#" + str(element.get("channel_id", ""))
    if kind == "usergroup":
        return "@" + str(element.get("usergroup_id", ""))
    if kind == "broadcast":
        return "@" + str(element.get("range", ""))
    if kind == "emoji":
        return ":" + str(element.get("name", "")) + ":"
    if kind == "date":
        return str(element.get("fallback", ""))
    return ""


def _container(element: Mapping[str, Any], bot_user_id: str | None) -> str:
    kind = element.get("type")
    children = element.get("elements") or []
    if kind == "rich_text_list":
        return "\n".join(_container(child, bot_user_id) for child in children)
    parts: list[str] = []
    after_bot = False
    for child in children:
        piece = _leaf(child, bot_user_id)
        if after_bot:
            piece = piece.removeprefix(" ")
        after_bot = child.get("type") == "user" and child.get("user_id") == bot_user_id
        parts.append(piece)
    text = "".join(parts)
    if kind == "rich_text_preformatted":
        return text.strip("\n")
    return text


def rich_text(blocks: Iterable[Mapping[str, Any]], bot_user_id: str | None = None) -> str | None:
    """Plain text rebuilt from `rich_text` blocks, or None when the message has none."""
    parts: list[str] = []
    found = False
    for block in blocks:
        if block.get("type") != "rich_text":
            continue
        found = True
        for element in block.get("elements") or []:
            parts.append(_container(element, bot_user_id))
    if not found:
        return None
    text = "\n".join(parts).translate(_SMART_QUOTES)
    return "\n".join(line.rstrip() for line in text.splitlines()).strip("\n")


def message_text(message: Mapping[str, Any], bot_user_id: str | None = None) -> str:
    """What the person typed (rich_text blocks, else the un-formatted `text`), invisible characters removed."""
    from_blocks = rich_text(message.get("blocks") or [], bot_user_id)
    if from_blocks is not None:
        return clean_text(from_blocks).strip()
    return clean_text(unformat(str(message.get("text") or ""), bot_user_id)).strip()
