"""Turn a request validation failure into OpenAI's 400: the field, the problem, a code.

Messages and codes follow the ones OpenAI sends (``invalid_type``,
``decimal_above_max_value``, ``array_above_max_length``, ...), so clients that branch on
``code`` or show ``message`` behave as they do against OpenAI. ``param`` is the field's
dotted path, ``messages.0.content`` or ``tools.0.function.name``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError

from deepsearch.server.errors import APIError, bad_request

# What each pydantic type error expected, in OpenAI's words.
EXPECTED = {
    "int_type": "an integer",
    "int_from_float": "an integer",
    "int_parsing": "an integer",
    "float_type": "a number",
    "float_parsing": "a number",
    "bool_type": "a boolean",
    "bool_parsing": "a boolean",
    "string_type": "a string",
    "string_unicode": "a string",
    "list_type": "an array",
    "dict_type": "an object",
    "model_type": "an object",
    "model_attributes_type": "an object",
}
BOUNDS = {
    "greater_than_equal": ("below_min_value", ">=", "ge"),
    "greater_than": ("below_min_value", ">", "gt"),
    "less_than_equal": ("above_max_value", "<=", "le"),
    "less_than": ("above_max_value", "<", "lt"),
}
MAX_SHOWN = 100


def json_type_name(value: Any) -> str:
    """Name a decoded JSON value's type the way OpenAI's messages do."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int):
        return "an integer"
    if isinstance(value, float):
        return "a decimal number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    return "an object"


def shown(value: Any) -> str:
    """Render a client value for a message, short."""
    try:
        text = json.dumps(value, ensure_ascii=False)
    except (TypeError, ValueError):
        text = repr(value)
    return text if len(text) <= MAX_SHOWN else text[: MAX_SHOWN - 1] + "…"


def param_path(loc: Sequence[int | str]) -> str | None:
    """Join an error location into a dotted path, without union arm tags."""
    if loc and loc[0] == "body":  # FastAPI's own validation prefixes the request part
        loc = loc[1:]
    parts = [str(p) for p in loc if not (isinstance(p, str) and p[:1] in ("~", "["))]
    return ".".join(parts) or None


def _bound(kind: str, param: str, value: Any, ctx: Mapping[str, Any]) -> tuple[str, str]:
    suffix, op, key = BOUNDS[kind]
    bound = ctx.get(key)
    number = "decimal" if isinstance(bound, float) else "integer"
    limit = f"{bound:g}" if isinstance(bound, float) else str(bound)
    side = "below minimum" if suffix.startswith("below") else "above maximum"
    return (
        f"Invalid '{param}': {number} {side} value. Expected a value {op} {limit}, "
        f"but got {shown(value)} instead.",
        f"{number}_{suffix}",
    )


def _length(kind: str, param: str, value: Any, ctx: Mapping[str, Any]) -> tuple[str, str]:
    what = {"a string": "string", "an array": "array"}.get(json_type_name(value), "object")
    size = "length" if what != "object" else "number of keys"
    longer = kind == "too_long"
    limit = ctx.get("max_length" if longer else "min_length")
    actual = len(value) if isinstance(value, str | list | dict) else "?"
    return (
        f"Invalid '{param}': {what} too {'long' if longer else 'short'}. Expected "
        f"{'maximum' if longer else 'minimum'} {size} {limit}, but got {actual} instead.",
        f"{what}_{'above_max' if longer else 'below_min'}_length",
    )


def describe(error: Mapping[str, Any], param: str) -> tuple[str, str]:
    """Return OpenAI's message and code for one validation error."""
    kind, value, ctx = error["type"], error.get("input"), error.get("ctx") or {}
    if kind in EXPECTED or kind == "invalid_type":
        expected = EXPECTED.get(kind) or str(error["msg"]).removeprefix("expected ")
        got = json_type_name(value)
        return (
            f"Invalid type for '{param}': expected {expected}, but got {got} instead.",
            "invalid_type",
        )
    if kind in BOUNDS:
        return _bound(kind, param, value, ctx)
    if kind in ("too_long", "too_short"):
        return _length(kind, param, value, ctx)
    if kind == "missing":
        return f"Missing required parameter: '{param}'.", "missing_required_parameter"
    if kind == "literal_error":
        return (
            f"Invalid value for '{param}': {shown(value)}. Supported values are: "
            f"{ctx.get('expected')}.",
            "invalid_value",
        )
    if kind == "string_pattern_mismatch":
        return (
            f"Invalid '{param}': {shown(value)} does not match the pattern '{ctx.get('pattern')}'.",
            "invalid_value",
        )
    return f"Invalid '{param}': {error['msg']}.", "invalid_value"


def from_validation(exc: ValidationError | RequestValidationError) -> APIError:
    """Turn the first problem of a failed request validation into a 400 naming the field."""
    errors = exc.errors()
    if not errors:
        return bad_request("Invalid request.")
    first = errors[0]
    param = param_path(first["loc"])
    if param is None:
        return bad_request(
            f"Invalid request body: {first['msg']}."[:500], code="invalid_request_error"
        )
    message, code = describe(first, param)
    return bad_request(message[:500], param=param, code=code)
