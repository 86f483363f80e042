"""Watch where the process connects: a canary listener and an audit of every socket connect.

:class:`Canary` listens on 127.0.0.1 (and ::1 on the same port when it can) and counts
the connections that reach it: a fetch that slips past the SSRF guard lands here.
:class:`ConnectionAudit` records every ``socket.connect`` the process makes (Python's
audit hooks see them before they happen) and refuses any destination outside
loopback, so a guard regression can never send test traffic off the machine.
"""

from __future__ import annotations

import contextlib
import ipaddress
import socket
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any


class Canary:
    """A TCP listener that counts connections and answers nothing useful."""

    def __init__(self) -> None:
        self.connections = 0
        self._lock = threading.Lock()
        self._sockets: list[socket.socket] = []
        v4 = socket.create_server(("127.0.0.1", 0))
        self.port = int(v4.getsockname()[1])
        self._sockets.append(v4)
        # Without IPv6 loopback, ::1 forms hit nothing; the connect audit still records them.
        with contextlib.suppress(OSError):
            self._sockets.append(socket.create_server(("::1", self.port), family=socket.AF_INET6))
        self._threads = [
            threading.Thread(target=self._accept, args=(s,), daemon=True) for s in self._sockets
        ]
        for thread in self._threads:
            thread.start()

    def _accept(self, server: socket.socket) -> None:
        while True:
            try:
                conn, _ = server.accept()
            except OSError:
                return
            with self._lock:
                self.connections += 1
            conn.close()

    def close(self) -> None:
        """Stop listening."""
        for s in self._sockets:
            s.close()


@contextmanager
def canary() -> Iterator[Canary]:
    """Run a :class:`Canary` for the duration of the block."""
    bird = Canary()
    try:
        yield bird
    finally:
        bird.close()


@dataclass
class ConnectionAudit:
    """Every destination the process tried to connect to while the audit was active."""

    attempts: list[tuple[str, int]] = field(default_factory=list)
    refused: list[tuple[str, int]] = field(default_factory=list)

    def ports_reached(self) -> set[int]:
        """Return the loopback ports connected to."""
        return {port for host, port in self.attempts if (host, port) not in self.refused}


_active: list[ConnectionAudit] = []
_installed = False


def _is_loopback(host: str) -> bool:
    try:
        ip = ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        return False
    mapped = getattr(ip, "ipv4_mapped", None)
    return bool(ip.is_loopback or (mapped is not None and mapped.is_loopback))


def _hook(event: str, args: tuple[Any, ...]) -> None:
    if event != "socket.connect" or not _active:
        return
    address = args[1]
    if not isinstance(address, tuple) or len(address) < 2:
        return  # unix sockets and the like: not network traffic
    destination = (str(address[0]), int(address[1]))
    audit = _active[-1]
    audit.attempts.append(destination)
    if not _is_loopback(destination[0]) and destination[0] != "0.0.0.0":
        audit.refused.append(destination)
        raise PermissionError(f"test audit: refused connection to {destination}")


@contextmanager
def audit_connections() -> Iterator[ConnectionAudit]:
    """Record (and keep on loopback) every socket connect made inside the block."""
    global _installed
    if not _installed:
        sys.addaudithook(_hook)  # audit hooks cannot be removed; it is inert when idle
        _installed = True
    audit = ConnectionAudit()
    _active.append(audit)
    try:
        yield audit
    finally:
        _active.remove(audit)
