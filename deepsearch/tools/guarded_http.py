"""An ``httpx`` client that only reaches addresses the SSRF guard allows.

:func:`make_guarded_client` checks every request and redirect hop before it is
sent, and its transport resolves and checks each host at connect time and then
connects to the checked address, so DNS cannot change between the check and the
connection (rebinding).
"""

from __future__ import annotations

import ssl
from collections.abc import Iterable
from typing import Any

import httpcore
import httpx

from deepsearch.tools.base import BlockedURLError
from deepsearch.tools.url_guard import (
    PUBLIC_ONLY,
    AddressPolicy,
    Resolver,
    check_url_static,
    resolve_checked,
)

_MAX_REDIRECTS = 5
_DEFAULT_LIMITS = httpx.Limits(max_connections=20, max_keepalive_connections=10)


class GuardedNetworkBackend(httpcore.AsyncNetworkBackend):
    """An httpcore network backend that connects only to checked public addresses.

    It resolves the host itself, refuses if any address is not public, and then
    connects to the address literal it checked, so the answer of a second DNS
    lookup can never be used (DNS rebinding). TLS still verifies the hostname.
    """

    def __init__(
        self,
        resolver: Resolver | None = None,
        policy: AddressPolicy = PUBLIC_ONLY,
        inner: httpcore.AsyncNetworkBackend | None = None,
    ) -> None:
        """Wrap ``inner`` (the default anyio backend) with resolution and checks."""
        self._resolver = resolver
        self._policy = policy
        self._inner = inner or httpcore.AnyIOBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        """Resolve, check and connect to the first reachable checked address."""
        target = f"tcp://{host}:{port}"
        addresses = await resolve_checked(target, host, port, self._resolver, self._policy)
        last_error: Exception | None = None
        for address in addresses[:4]:
            try:
                return await self._inner.connect_tcp(
                    address, port, timeout, local_address, socket_options
                )
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                last_error = exc
        assert last_error is not None
        raise last_error

    async def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Iterable[Any] | None = None
    ) -> httpcore.AsyncNetworkStream:
        """Refuse Unix sockets: the guard only allows public TCP addresses."""
        raise BlockedURLError(f"unix:{path}", "unix sockets are not allowed")

    async def sleep(self, seconds: float) -> None:
        """Sleep using the wrapped backend."""
        await self._inner.sleep(seconds)


class GuardedTransport(httpx.AsyncHTTPTransport):
    """An ``httpx`` transport whose connections go through :class:`GuardedNetworkBackend`."""

    def __init__(
        self,
        *,
        resolver: Resolver | None = None,
        policy: AddressPolicy = PUBLIC_ONLY,
        verify: ssl.SSLContext | bool = True,
        limits: httpx.Limits = _DEFAULT_LIMITS,
        http2: bool = False,
    ) -> None:
        """Build a direct (proxy-less) transport that checks every connection it opens."""
        super().__init__(verify=verify, limits=limits, http2=http2, trust_env=False)
        self._pool = httpcore.AsyncConnectionPool(
            ssl_context=httpx.create_ssl_context(verify=verify, trust_env=False),
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
            http1=True,
            http2=http2,
            network_backend=GuardedNetworkBackend(resolver, policy),
        )


def make_guarded_client(
    *,
    allow_private: bool,
    timeout: float,
    resolver: Resolver | None = None,
    policy: AddressPolicy = PUBLIC_ONLY,
    max_redirects: int = _MAX_REDIRECTS,
    **kw: Any,
) -> httpx.AsyncClient:
    """Build an ``httpx.AsyncClient`` that refuses non-public destinations.

    With the guard on, a request hook checks every request and every redirect
    hop (scheme, credentials, IP literals, local names), and the transport
    resolves and checks each host at connect time and connects to the checked
    address. Environment proxies are ignored (a proxy would hide the real
    destination). Blocked requests raise :class:`BlockedURLError`.

    Args:
        allow_private: ``True`` returns a plain client (no guard).
        timeout: Seconds for connect, read, write and pool waits.
        resolver: Name resolution for the guard (tests inject one); defaults to
            the event loop's ``getaddrinfo``.
        policy: Which addresses to refuse, on every hop and at connect time; the
            default refuses every non-public one (exemptions: :class:`AddressPolicy`).
        max_redirects: Redirect hops to follow at most.
        **kw: Passed to ``httpx.AsyncClient`` (headers, ``follow_redirects``, ``verify``
            (a bool or an ``ssl.SSLContext``), ...).

    Returns:
        The client; close it with ``await client.aclose()`` or ``async with``.
    """
    kw.setdefault("follow_redirects", True)
    kw.setdefault("max_redirects", max_redirects)
    if allow_private:
        return httpx.AsyncClient(timeout=timeout, **kw)

    async def check_request(request: httpx.Request) -> None:
        check_url_static(str(request.url), policy)

    hooks = dict(kw.pop("event_hooks", None) or {})
    hooks["request"] = [check_request, *hooks.get("request", [])]
    verify = kw.pop("verify", True)
    kw.setdefault("transport", GuardedTransport(resolver=resolver, policy=policy, verify=verify))
    kw.setdefault("trust_env", False)
    return httpx.AsyncClient(timeout=timeout, event_hooks=hooks, **kw)
