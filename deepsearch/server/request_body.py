"""Read a JSON request body the way OpenAI does: declared as JSON, UTF-8, one object.

Everything here is checked before a run starts, and fast: the content type before a
byte of the body is read, the encoding and syntax before any field is looked at.

A missing ``Content-Type`` is a 415 like any other non-JSON type. Every OpenAI SDK
sends ``application/json``, and requiring it is what makes browsers ask before a
cross-site page posts to a local server (a body without the header, or as
``text/plain`` or a form, is a "simple request" they send without asking).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

from starlette.requests import ClientDisconnect, Request

from deepsearch.server.errors import APIError, bad_request

JSON_MEDIA_TYPE = "application/json"
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")


class ClientGone(Exception):
    """The client disconnected before its answer was ready."""


def check_content_type(header: str | None) -> None:
    """Require ``application/json`` (any case), with no charset or a UTF-8 one."""
    media_type, _, params = (header or "").partition(";")
    if media_type.strip().lower() != JSON_MEDIA_TYPE:
        got = f"'{media_type.strip()[:100]}'" if media_type.strip() else "none"
        raise APIError(
            415,
            f"Unsupported Content-Type {got}: send the body as JSON with "
            f"'Content-Type: {JSON_MEDIA_TYPE}'.",
            code="unsupported_media_type",
        )
    for param in params.split(";"):
        name, _, value = param.partition("=")
        charset = value.strip().strip('"').lower()
        if name.strip().lower() == "charset" and charset not in ("utf-8", "utf8"):
            raise APIError(
                415,
                f"Unsupported charset '{charset[:40]}': the JSON body must be UTF-8.",
                code="unsupported_media_type",
            )


def decode_utf8(raw: bytes) -> str:
    """Decode the body as strict UTF-8 (a byte order mark is tolerated)."""
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise bad_request(
            f"The request body is not valid UTF-8 (byte {exc.start}).", code="invalid_encoding"
        ) from None


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def parse_json_object(text: str) -> dict[str, Any]:
    """Parse strict JSON (no NaN or Infinity) that must be an object."""
    try:
        data = json.loads(text, parse_constant=_reject_constant)
    except RecursionError:
        raise bad_request("The request body is nested too deeply.", code="invalid_json") from None
    except ValueError as exc:
        raise bad_request(
            f"The request body is not valid JSON: {exc}"[:300], code="invalid_json"
        ) from None
    if not isinstance(data, dict):
        raise bad_request("The request body must be a JSON object.", code="invalid_json")
    path = lone_surrogate_path(data) if _SURROGATE_ESCAPE.search(text) else None
    if path is not None:
        raise bad_request(
            f"Invalid Unicode in '{path}': a \\u escape encodes half of a surrogate pair.",
            param=path,
            code="invalid_encoding",
        )
    return data


def _strings(value: Any, path: str) -> Iterator[tuple[str, str]]:
    """Yield every string (keys too) under ``value`` with its dotted path, depth first."""
    stack: list[tuple[Any, str]] = [(value, path)]
    while stack:
        item, where = stack.pop()
        if isinstance(item, str):
            yield item, where
        elif isinstance(item, dict):
            for key, child in item.items():
                inner = f"{where}.{key}" if where else str(key)
                yield key, inner
                stack.append((child, inner))
        elif isinstance(item, list):
            stack.extend((child, f"{where}.{i}") for i, child in enumerate(item))


def lone_surrogate_path(data: Any) -> str | None:
    """Return the path of the first string holding a lone surrogate, or None.

    Strict UTF-8 bytes cannot carry one, but a JSON ``\\ud800`` escape can; such text
    is not Unicode and would fail later, wherever it is encoded.
    """
    for text, path in _strings(data, ""):
        if _LONE_SURROGATE.search(text):
            return path
    return None


async def read_json_object(request: Request) -> dict[str, Any]:
    """Check the content type, then read, decode and parse the body into a JSON object.

    Raises:
        APIError: 415 for a body that is not declared JSON, 400 for one that is not
            UTF-8 JSON or not an object (413 and 408 come from the body guard).
        ClientGone: The client left while sending the body.
    """
    check_content_type(request.headers.get("content-type"))
    try:
        raw = await request.body()
    except ClientDisconnect:
        raise ClientGone() from None
    return parse_json_object(decode_utf8(raw))
