"""Turn OpenAI chat messages into a run's input: conversation, images and attached files.

Images (``image_url`` data URIs: webp, png, jpeg) go to the answering model; files
(``file`` data URIs: text or PDF) are extracted into the run's knowledge. Anything
malformed is the client's fault (400); anything too large is a 413.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import io
import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote_to_bytes

from langchain_core.messages import AIMessage, AnyMessage, HumanMessage, SystemMessage

from deepsearch.server.errors import APIError, bad_request
from deepsearch.server.schemas import ChatMessage
from deepsearch.state import Knowledge

_DATA_URI = re.compile(r"^data:([\w.+-]+/[\w.+-]+)?((?:;[\w-]+=[\w.+-]+)*)(;base64)?,", re.I)
_THINK = re.compile(r"<think>.*?(</think>|\Z)\s*", re.S)
_IMAGE_MAGIC = {
    "image/png": (b"\x89PNG\r\n\x1a\n",),
    "image/jpeg": (b"\xff\xd8\xff",),
    "image/webp": (b"RIFF",),
}
MAX_FILE_CHARS = 100_000
MAX_PDF_PAGES = 500


@dataclass
class RunInput:
    """What a request gives the run."""

    messages: list[AnyMessage] = field(default_factory=list)
    images: list[str] = field(default_factory=list)
    knowledge: list[Knowledge] = field(default_factory=list)


@dataclass
class DataURI:
    """A decoded ``data:`` URI."""

    media_type: str
    charset: str | None
    payload: bytes


def clean_text(text: str) -> str:
    """Drop characters that cannot be encoded (lone surrogates) from client text."""
    return text.encode("utf-8", "replace").decode("utf-8")


def parse_data_uri(uri: Any, param: str, max_bytes: int) -> DataURI:
    """Decode a ``data:`` URI, checking its size before decoding it."""
    if not isinstance(uri, str):
        raise bad_request(
            f"{param} must be a data URI string.", param=param, code="invalid_data_uri"
        )
    match = _DATA_URI.match(uri)
    if match is None:
        raise bad_request(
            f"{param} must be a data URI (data:<media type>;base64,<data>).",
            param=param,
            code="invalid_data_uri",
        )
    body = uri[match.end() :]
    is_base64 = bool(match.group(3))
    if (len(body) * 3 // 4 if is_base64 else len(body) // 3) > max_bytes:
        raise too_large(param, max_bytes)
    try:
        payload = base64.b64decode(body, validate=True) if is_base64 else unquote_to_bytes(body)
    except (binascii.Error, ValueError):
        raise bad_request(
            f"{param} has invalid base64 data.", param=param, code="invalid_data_uri"
        ) from None
    if len(payload) > max_bytes:
        raise too_large(param, max_bytes)
    params = dict(p.split("=", 1) for p in match.group(2).split(";") if "=" in p)
    media_type = (match.group(1) or "text/plain").lower()
    return DataURI(media_type, params.get("charset"), payload)


def too_large(param: str, max_bytes: int) -> APIError:
    """Return the 413 for an attachment over the per-file limit."""
    return APIError(
        413,
        f"{param} is larger than {max_bytes // (1024 * 1024)} MB.",
        param=param,
        code="file_too_large",
    )


def image_data_uri(part: dict[str, Any], param: str, max_bytes: int) -> str:
    """Return a checked image data URI from an ``image_url`` (or ``image``) part."""
    value = part.get("image_url", part.get("image"))
    url = value.get("url") if isinstance(value, dict) else value
    data = parse_data_uri(url, f"{param}.image_url", max_bytes)
    media_type = "image/jpeg" if data.media_type == "image/jpg" else data.media_type
    magics = _IMAGE_MAGIC.get(media_type)
    if magics is None:
        raise bad_request(
            f"{param}: images must be webp, png or jpeg, not {data.media_type}.",
            param=param,
            code="unsupported_image_type",
        )
    if not data.payload.startswith(magics) or (
        media_type == "image/webp" and data.payload[8:12] != b"WEBP"
    ):
        raise bad_request(
            f"{param}: the data is not a {media_type} image.", param=param, code="invalid_image"
        )
    encoded = base64.b64encode(data.payload).decode("ascii")
    return f"data:{media_type};base64,{encoded}"


def _pdf_text(payload: bytes) -> str:
    from pypdf import PdfReader

    reader = PdfReader(io.BytesIO(payload))
    texts: list[str] = []
    total = 0
    for page in reader.pages[:MAX_PDF_PAGES]:
        text = page.extract_text() or ""
        texts.append(text)
        total += len(text)
        if total > MAX_FILE_CHARS:
            break
    return "\n\n".join(texts)


async def file_knowledge(part: dict[str, Any], param: str, max_bytes: int) -> Knowledge:
    """Extract an attached text or PDF file into a knowledge item."""
    spec = part.get("file")
    if isinstance(spec, dict):
        uri, name = spec.get("file_data"), spec.get("filename")
        if uri is None and spec.get("file_id") is not None:
            raise bad_request(
                f"{param}: uploaded file ids are not supported; send file_data as a data URI.",
                param=param,
                code="unsupported_file",
            )
    else:
        uri, name = part.get("data", spec), part.get("filename")
    data = parse_data_uri(uri, f"{param}.file", max_bytes)
    if data.media_type == "application/pdf":
        try:
            text = await asyncio.to_thread(_pdf_text, data.payload)
        except Exception:  # pypdf raises many kinds of errors on broken files
            raise bad_request(
                f"{param}: the PDF could not be read.", param=param, code="invalid_file"
            ) from None
    elif data.media_type.startswith("text/"):
        text = data.payload.decode(_codec(data.charset), "replace")
    else:
        raise bad_request(
            f"{param}: files must be text or PDF, not {data.media_type}.",
            param=param,
            code="unsupported_file_type",
        )
    title = name if isinstance(name, str) and name else "attached file"
    return {
        "question": clean_text(f"What does the attached file '{title[:200]}' say?"),
        "answer": clean_text(text[:MAX_FILE_CHARS]),
        "kind": "file",
        "references": [],
        "date": None,
    }


def _codec(charset: str | None) -> str:
    import codecs

    try:
        return codecs.lookup(charset or "utf-8").name
    except LookupError:
        return "utf-8"


async def _content_text(content: Any, param: str, run: RunInput, max_bytes: int) -> str:
    if content is None or isinstance(content, str):
        return clean_text(content or "")
    if not isinstance(content, list):
        raise bad_request(
            f"{param} must be a string or a list of content parts.",
            param=param,
            code="invalid_value",
        )
    texts: list[str] = []
    for i, part in enumerate(content):
        where = f"{param}.{i}"
        if not isinstance(part, dict):
            raise bad_request(f"{where} must be an object.", param=where, code="invalid_value")
        kind = part.get("type")
        if kind in ("text", "input_text"):
            text = part.get("text")
            if not isinstance(text, str):
                raise bad_request(f"{where}.text must be a string.", param=f"{where}.text")
            texts.append(clean_text(text))
        elif kind in ("image_url", "image"):
            run.images.append(image_data_uri(part, where, max_bytes))
        elif kind == "file":
            run.knowledge.append(await file_knowledge(part, where, max_bytes))
        else:
            raise bad_request(
                f"{where}.type must be 'text', 'image_url' or 'file'.",
                param=f"{where}.type",
                code="invalid_value",
            )
    return "\n".join(texts)


async def run_input(messages: list[ChatMessage], max_file_bytes: int) -> RunInput:
    """Convert the request's messages; the last one must be a user message with text."""
    if messages[-1].role != "user":
        raise bad_request("The last message must have role 'user'.", param="messages")
    run = RunInput()
    for i, msg in enumerate(messages):
        text = await _content_text(msg.content, f"messages.{i}.content", run, max_file_bytes)
        if msg.role == "user":
            run.messages.append(HumanMessage(text))
        elif msg.role == "assistant":
            run.messages.append(AIMessage(_THINK.sub("", text).strip()))
        elif msg.role in ("system", "developer") and text:
            run.messages.append(SystemMessage(text))
    if not run.messages[-1].text.strip():
        raise bad_request("The last user message has no text to research.", param="messages")
    return run
