"""Turn azure-ai-ml's validation errors into one short line.

azure-ai-ml wraps marshmallow's field errors in pages of JSON and advice. The field
errors themselves are a nested dict; unions (distribution, inputs, code) report one
alternative per member, and only the one that matched what the user wrote matters.
"""
from __future__ import annotations

import json
import re
from typing import Any, Iterable

Error = tuple[str, str]  # (dotted field path, message)

_NOT_IN_SET = re.compile(r"Value '(?P<given>.*)' passed is not in set \[(?P<allowed>.*)\]", re.S)
_NOT_VALID = re.compile(r"Not a valid (?P<what>[\w ]+)\.?")
_REWORDED = {
    "Unknown field.": "unknown field",
    "Missing data for required field.": "required field missing",
    "Field may not be null.": "may not be empty",
    "Invalid input type.": "invalid value",
}
# Fields that are mappings of user-chosen keys: marshmallow reports an entry's errors
# under "key" / "value" beneath the user's key.
_DICT_FIELDS = {"inputs", "outputs", "tags", "properties", "environment_variables", "services"}


def short_message(error: BaseException, doc: dict) -> str:
    """The field-level problems of an azure-ai-ml validation error, joined by "; ".

    Parameters:
        error: what an azure-ai-ml `load_*` raised.
        doc: the document it validated, to tell which union member the user meant.
    """
    messages = _field_messages(error)
    if isinstance(messages, dict):
        errors = _walk(messages, "", doc)
    else:
        errors = _from_text(str(error))
    lines = dict.fromkeys(f"{path}: {msg}" if path else msg for path, msg in errors)
    return "; ".join(lines) or _first_line(str(error))


def _field_messages(error: BaseException) -> Any:
    # The innermost marshmallow error still holds the dict; the outer ones hold text.
    found, seen = None, set()
    while error is not None and id(error) not in seen:
        seen.add(id(error))
        if isinstance(getattr(error, "messages", None), dict):
            found = error.messages
        error = error.__cause__ or error.__context__
    return found


def _from_text(text: str) -> list[Error]:
    start, end = text.find("{"), text.rfind("}")
    try:
        report = json.loads(text[start : end + 1]) if start >= 0 else {}
    except ValueError:
        report = {}
    entries = report.get("errors") if isinstance(report, dict) else None
    if not isinstance(entries, list):
        return [("", _first_line(text))]
    return [(str(e.get("path", "")).strip("*"), _first_line(str(e.get("message", "")))) for e in entries]


def _first_line(text: str) -> str:
    return next((line.strip() for line in text.splitlines() if line.strip()), text)[:300]


def _walk(node: Any, path: str, raw: Any) -> list[Error]:
    if isinstance(node, dict):
        return [err for key, sub in node.items() for err in _entry(key, sub, path, raw)]
    if isinstance(node, list) and any(isinstance(item, (dict, list)) for item in node):
        return _union(node, path, raw)
    if isinstance(node, list):
        return [(path, _reword(str(m))) for m in node]
    return [(path, _reword(str(node)))]


def _entry(key: Any, sub: Any, path: str, raw: Any) -> list[Error]:
    if key == "_schema":
        return _walk(sub, path, raw)
    if key is None:  # the scalar members of a union
        return _union(sub if isinstance(sub, list) else [sub], path, raw)
    child_path = f"{path}.{key}" if path else str(key)
    child_raw = raw.get(key) if isinstance(raw, dict) else None
    if path in _DICT_FIELDS and isinstance(sub, dict) and set(sub) <= {"key", "value"}:
        errors = _walk(sub.get("value", []), child_path, child_raw)
        return errors + [(child_path, f"bad key: {m}") for _, m in _walk(sub.get("key", []), "", None)]
    return _walk(sub, child_path, raw=child_raw)


def _union(members: list, path: str, raw: Any) -> list[Error]:
    flat = [_walk(member, path, raw) for member in members]
    if all(len(errs) == 1 and errs[0][0] == path for errs in flat):
        return [(path, _one_of_messages([errs[0][1] for errs in flat]))]
    kept = [errs for member, errs in zip(members, flat) if not _rejected(member, errs, path, raw)]
    if kept:
        return min(kept, key=len)
    allowed = [
        value
        for member in members
        if isinstance(member, dict)
        for msg in _strings(member.get("type"))
        if (match := _NOT_IN_SET.fullmatch(msg))
        for value in _quoted(match["allowed"])
    ]
    if allowed and isinstance(raw, dict):
        given = raw.get("type")
        return [(f"{path}.type", f"'{given}' is not one of {', '.join(dict.fromkeys(allowed))}")]
    return flat[0]


def _rejected(member: Any, errors: list[Error], path: str, raw: Any) -> bool:
    """Whether a union member is plainly not the one the user meant: its `type` is
    another one, or it wants a scalar where the user wrote a mapping (or vice versa)."""
    if isinstance(member, dict) and None in member:
        return isinstance(raw, (dict, list))
    type_path = f"{path}.type" if path else "type"
    return any(
        (p == type_path and (m.startswith("'") and " is not one of " in m or m == "unknown field"))
        or (p == path and m == "invalid value")
        for p, m in errors
    )


def _one_of_messages(messages: list[str]) -> str:
    whats = [m.removeprefix("not a valid ") for m in messages if m.startswith("not a valid ")]
    if len(whats) == len(messages) > 1:
        unique = list(dict.fromkeys(whats))
        return "not a valid " + (", ".join(unique[:-1]) + " or " + unique[-1] if len(unique) > 1 else unique[0])
    return messages[0]


def _reword(message: str) -> str:
    message = message.strip()
    if message in _REWORDED:
        return _REWORDED[message]
    if match := _NOT_IN_SET.fullmatch(message):
        return f"'{match['given']}' is not one of {', '.join(_quoted(match['allowed']))}"
    if match := _NOT_VALID.fullmatch(message):
        return f"not a valid {match['what']}"
    return _first_line(message)


def _quoted(listing: str) -> list[str]:
    return re.findall(r"'([^']*)'", listing)


def _strings(value: Any) -> Iterable[str]:
    return [v for v in value if isinstance(v, str)] if isinstance(value, list) else []
