"""Turn what a weak model writes into the object a schema asks for.

Small local models wrap their JSON in fences, add prose before or after it, cut it off
at the completion cap, nest it under a wrapper key, echo the schema's ``properties``,
write one item where a list is expected, or invent enum values (``"action": "query"``).
:func:`parse_reply` finds every JSON object in a reply, unwraps and coerces each toward
the schema, and returns the first that validates; only when none does is the reply
unusable. Coercions are generic (by the schema's types); a schema adds meaning-level
synonyms for its own enums with a ``mode="before"`` validator.
"""

from __future__ import annotations

import json
import re
import types
import typing
from typing import Any, Literal, TypeVar, get_args, get_origin

import json_repair
from pydantic import BaseModel, ValidationError

T = TypeVar("T", bound=BaseModel)

_THINK_BLOCK = re.compile(r"<think>.*?</think>", re.DOTALL | re.IGNORECASE)
_OPEN_THINK = re.compile(r"^\s*<think>.*", re.DOTALL | re.IGNORECASE)
_FENCE = re.compile(r"```[\w-]*\s*(.*?)(?:```|\Z)", re.DOTALL)
_DECODER = json.JSONDecoder()
MAX_STARTS = 40  # braces tried as the start of an object, per reply
MAX_DEPTH = 3  # how deep a wrapped object is looked for


def strip_think(text: str) -> str:
    """Remove ``<think>...</think>`` blocks (and an unterminated leading one)."""
    text = _THINK_BLOCK.sub("", text)
    if "</think>" not in text and _OPEN_THINK.match(text):
        return ""
    return text.split("</think>")[-1].strip()


def json_objects(text: str) -> list[dict[str, Any]]:
    """Return the JSON objects in a reply, in order: whole ones first, then a repaired one.

    Fenced blocks are looked at before the bare text; an object followed by prose (or
    by a second object) decodes on its own. When no object decodes as written, the text
    from the first brace is repaired (cut-off replies, single quotes, trailing commas).
    """
    text = strip_think(text)
    found: list[dict[str, Any]] = []
    for chunk in [*(m.group(1) for m in _FENCE.finditer(text)), text]:
        found += _decoded(chunk)
    if found:
        return found
    start = text.find("{")
    if start < 0:
        return []
    repaired = json_repair.loads(text[start:])
    if isinstance(repaired, list):  # an object then prose comes back as [object, ...]
        return [v for v in repaired if isinstance(v, dict)]
    return [repaired] if isinstance(repaired, dict) else []


def _decoded(text: str) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    pos, starts = text.find("{"), 0
    while pos >= 0 and starts < MAX_STARTS:
        starts += 1
        try:
            value, end = _DECODER.raw_decode(text, pos)
        except ValueError:
            pos = text.find("{", pos + 1)
            continue
        if isinstance(value, dict):
            out.append(value)
        pos = text.find("{", end)
    return out


def extract_json(text: str) -> dict[str, Any]:
    """Return the first JSON object of a model reply; raise ValueError when there is none."""
    objects = json_objects(text)
    if not objects:
        raise ValueError("the reply contains no JSON object")
    return objects[0]


def parse_reply(text: str, schema: type[T]) -> T:
    """Return the first object in ``text`` that fits ``schema`` after repair.

    Raises:
        ValueError: no JSON object in the reply, or none that validates (the first
            validation error is kept, for the retry prompt).
    """
    objects = json_objects(text)
    if not objects:
        raise ValueError("the reply contains no JSON object")
    first: ValidationError | None = None
    for value in objects:
        try:
            return schema.model_validate(coerce(unwrap(value, schema), schema))
        except ValidationError as exc:
            first = first or exc
    assert first is not None
    raise ValueError(str(first)) from first


def unwrap(value: dict[str, Any], schema: type[BaseModel]) -> dict[str, Any]:
    """Return the object that holds the schema's fields, when the model nested it.

    Models write ``{"PlanDecision": {...}}``, ``{"response": {...}}`` or echo the schema
    as ``{"type": "object", "properties": {...}}``; the nested object holding more of
    the schema's field names than the outer one is the reply.
    """
    names = _field_names(schema)
    best, best_hits = value, len(names & set(value))
    stack: list[tuple[dict[str, Any], int]] = [(value, 0)]
    while stack:
        node, depth = stack.pop()
        if depth >= MAX_DEPTH:
            continue
        for child in node.values():
            if isinstance(child, dict):
                hits = len(names & set(child))
                if hits > best_hits:
                    best, best_hits = child, hits
                stack.append((child, depth + 1))
    return best


def _field_names(schema: type[BaseModel]) -> set[str]:
    names = set(schema.model_fields)
    names |= {f.alias for f in schema.model_fields.values() if f.alias}
    return names


def coerce(value: Any, schema: type[BaseModel]) -> Any:
    """Bend a decoded object toward ``schema`` by its field types, recursively.

    ``null`` where a default exists is dropped; one string where a list of strings is
    expected becomes a one-item list; a list where text is expected is joined; a
    string for an enum (a ``Literal``) that differs only in case, spacing or a suffix
    (``"Search"``, ``"searching"``, ``"read_urls"``) becomes the allowed value.
    """
    if not isinstance(value, dict):
        return value
    out = dict(value)
    for name, info in schema.model_fields.items():
        key = name if name in out else (info.alias if info.alias in out else None)
        if key is None:
            continue
        if out[key] is None and not info.is_required():
            del out[key]
            continue
        out[key] = _coerce_value(out[key], info.annotation)
    return out


def _coerce_value(value: Any, annotation: Any) -> Any:
    origin, args = get_origin(annotation), get_args(annotation)
    if origin in (typing.Union, types.UnionType):
        inner = [a for a in args if a is not type(None)]
        return _coerce_value(value, inner[0]) if len(inner) == 1 else value
    if origin is Literal:
        return enum_value(value, args)
    if origin is list and args:
        if isinstance(value, str) or (isinstance(value, dict) and _is_model(args[0])):
            value = [value]
        if isinstance(value, list):
            return [_coerce_value(v, args[0]) for v in value]
        return value
    if annotation is str and isinstance(value, list):
        return " ".join(str(v) for v in value if v is not None)
    if annotation is str and isinstance(value, dict):
        texts = [v for v in value.values() if isinstance(v, str)]
        return texts[0] if len(texts) == 1 else value
    if _is_model(annotation):
        return coerce(value, annotation)
    return value


def _is_model(annotation: Any) -> bool:
    return isinstance(annotation, type) and issubclass(annotation, BaseModel)


def enum_value(value: Any, allowed: tuple[Any, ...]) -> Any:
    """Return the allowed enum value ``value`` means, by case, spacing or a common stem."""
    if not isinstance(value, str) or value in allowed:
        return value
    said = re.sub(r"[^a-z0-9]+", "_", value.strip().lower()).strip("_")
    texts = [a for a in allowed if isinstance(a, str)]
    for option in texts:
        if said == option.lower():
            return option
    stems = [o for o in texts if said.startswith(o.lower()) or o.lower().startswith(said)]
    return stems[0] if len(stems) == 1 and len(said) >= 3 else value


__all__ = ["coerce", "enum_value", "extract_json", "json_objects", "parse_reply", "strip_think"]
