"""Progress of a run as MCP notifications: the steps the CLI shows, tokens against the budget.

Each progress event of the run becomes one ``notifications/progress`` for the call's
``progressToken`` (when the client sent one): ``progress`` counts the tokens spent,
``total`` is the budget, ``message`` says what happens (``Step 2 · search: ...``).
When the client asked for log messages (``logging/setLevel`` at ``info`` or below),
the same lines also go out as ``notifications/message``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import anyio
from mcp.server.session import ServerSession
from mcp.types import LoggingLevel, ProgressToken, RequestId

log = logging.getLogger(__name__)

# The label of each progress kind in a message (others show their kind).
LABELS = {
    "plan": "plan",
    "query": "search",
    "search": "search",
    "search-done": "found",
    "read": "read",
    "read-failed": "read failed",
    "read-done": "read",
    "reflect": "reflect",
    "answer": "draft answer",
    "checks": "checks",
    "verdict": "verdict",
    "beast": "final answer",
    "queued": "queued",
}
MAX_MESSAGE_CHARS = 300
# RFC 5424 order of MCP log levels, lowest first.
LEVELS: tuple[LoggingLevel, ...] = (
    "debug",
    "info",
    "notice",
    "warning",
    "error",
    "critical",
    "alert",
    "emergency",
)


def describe(event: dict[str, Any]) -> str:
    """Return one short human line for a progress event."""
    kind = str(event.get("kind") or "")
    text = " ".join(str(event.get("text") or "").split())
    if kind == "plan" and event.get("action"):
        text = f"{event['action']}. {text}" if text else str(event["action"])
    if kind == "verdict" and "passed" in event:
        text = f"{'passed' if event['passed'] else 'failed'}: {text}"
    label = LABELS.get(kind, kind or "step")
    worker = f"[{event['worker']}] " if event.get("worker") else ""
    line = f"{worker}Step {event.get('step', 0)} · {label}: {text}".rstrip(": ")
    if len(line) > MAX_MESSAGE_CHARS:
        line = line[: MAX_MESSAGE_CHARS - 1] + "…"
    return line


def wants_log(client_level: LoggingLevel | None, level: LoggingLevel) -> bool:
    """Tell whether a message of ``level`` goes to a client that set ``client_level``."""
    return client_level is not None and LEVELS.index(level) >= LEVELS.index(client_level)


@dataclass
class ProgressReporter:
    """Send one call's progress to its client.

    Attributes:
        session: The client's session.
        request_id: The ``tools/call`` request the notifications belong to (so a
            streamable HTTP server sends them on that request's stream).
        token: The client's ``progressToken``; no progress notifications without one.
        log_level: The level the client asked for with ``logging/setLevel``, if any.
    """

    session: ServerSession
    request_id: RequestId
    token: ProgressToken | None
    log_level: LoggingLevel | None = None
    progress: float = 0.0
    sent: int = 0

    async def report(self, event: dict[str, Any]) -> None:
        """Send one progress event (as progress, and as a log message if asked for)."""
        if event.get("type") != "progress":
            return
        message = describe(event)
        tokens = float(event.get("tokens_used") or 0)
        # MCP wants progress to grow with every notification; tokens may stand still.
        self.progress = max(tokens, self.progress + 1)
        budget = float(event.get("budget_tokens") or 0)
        total = max(budget, self.progress) if budget else None
        related = str(self.request_id)
        try:
            if self.token is not None:
                await self.session.send_progress_notification(
                    self.token, self.progress, total, message, related_request_id=related
                )
                self.sent += 1
            level: LoggingLevel = "warning" if event.get("kind") == "warning" else "info"
            if wants_log(self.log_level, level):
                await self.session.send_log_message(
                    level, message, logger="deepsearch", related_request_id=related
                )
        except (anyio.ClosedResourceError, anyio.BrokenResourceError) as exc:
            # The client is gone; the transport cancels the call, not a notification.
            log.debug("progress notification not sent: %s", exc)
