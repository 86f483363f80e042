"""URL helpers and the SSRF guard.

URLs come from untrusted places (search results, pages, model output, user
messages). :func:`check_url` refuses anything that is not a public http(s)
address; :func:`make_guarded_client` builds an ``httpx.AsyncClient`` that checks
every request and every redirect hop, and connects only to the addresses it
checked, so DNS cannot change between the check and the connection.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
import ssl
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import httpcore
import httpx

from deepsearch.tools.base import BlockedURLError

Resolver = Callable[[str, int], Awaitable[list[str]]]
"""Resolve ``(host, port)`` to a list of IP address strings."""

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

_DEFAULT_PORTS = {"http": 80, "https": 443}
_TRACKING_PARAMS = {"gclid", "fbclid", "msclkid", "mc_cid", "mc_eid", "yclid", "_hsenc", "_hsmi"}
_METADATA_HOSTS = {
    "metadata.google.internal",
    "metadata.goog",
    "metadata",
    "instance-data",
    "instance-data.ec2.internal",
}
_METADATA_IPS = {
    ipaddress.ip_address("169.254.169.254"),
    ipaddress.ip_address("169.254.170.2"),
    ipaddress.ip_address("100.100.100.200"),
    ipaddress.ip_address("fd00:ec2::254"),
}
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_MAX_URL_LENGTH = 8192
_MAX_REDIRECTS = 5
_DEFAULT_LIMITS = httpx.Limits(max_connections=20, max_keepalive_connections=10)


def normalize_url(url: str) -> str:
    """Return a canonical form of ``url`` for deduplication and cache keys.

    Lowercases scheme and host, drops the fragment, the default port and
    tracking parameters (``utm_*``, ``gclid``, ...), and gives an empty path ``/``.
    Non-http(s) URLs only lose their fragment and get a lowercase scheme.

    Args:
        url: Any URL string.

    Returns:
        The normalized URL (the input stripped of whitespace if it cannot be parsed).
    """
    url = url.strip()
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return url
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS:
        return urlunsplit((scheme, parts.netloc, parts.path, parts.query, ""))
    host = (parts.hostname or "").rstrip(".")
    if ":" in host:
        host = f"[{host}]"
    netloc = host
    if port is not None and port != _DEFAULT_PORTS[scheme]:
        netloc = f"{host}:{port}"
    if parts.username is not None:
        auth = parts.username + (f":{parts.password}" if parts.password is not None else "")
        netloc = f"{auth}@{netloc}"
    pairs = parse_qsl(parts.query, keep_blank_values=True)
    kept = [
        (k, v)
        for k, v in pairs
        if not k.lower().startswith("utm_") and k.lower() not in _TRACKING_PARAMS
    ]
    query = parts.query if len(kept) == len(pairs) else urlencode(kept)
    return urlunsplit((scheme, netloc, parts.path or "/", query, ""))


def hostname(url: str) -> str:
    """Return the lowercase host of ``url`` without a trailing dot (``""`` if none).

    Local corpus documents (``corpus://...``) have no hosts: their document path
    stands in for the host, so per-host limits and host diversity apply per
    document rather than lumping a whole corpus under one "host".

    Args:
        url: Any URL string.

    Returns:
        The hostname, e.g. ``"example.com"`` for ``"https://Example.com./a"``, or
        ``"corpus://hotpotqa/Lilu"`` for ``"corpus://hotpotqa/Lilu#2"``.
    """
    url = url.strip()
    if url[:9].lower() == "corpus://":
        return url.split("#", 1)[0]
    try:
        return (urlsplit(url).hostname or "").rstrip(".").lower()
    except ValueError:
        return ""


def parse_ip(host: str) -> IPAddress | None:
    """Parse ``host`` as an IP address, including legacy IPv4 spellings.

    Accepts what ``inet_aton`` accepts (and so what many resolvers and browsers
    connect to): ``2130706433``, ``0x7f.1``, ``017700000001``, ``127.1``, as well as
    bracketed or plain IPv6.

    Args:
        host: A hostname or address literal.

    Returns:
        The address, or ``None`` when ``host`` is a name.
    """
    host = host.strip().strip("[]").rstrip(".")
    if not host:
        return None
    if ":" in host:
        try:
            return ipaddress.IPv6Address(host.split("%", 1)[0])
        except ValueError:
            return None
    parts = host.split(".")
    if len(parts) > 4:
        return None
    numbers: list[int] = []
    for part in parts:
        try:
            if part.lower().startswith("0x"):
                numbers.append(int(part[2:] or "0", 16))
            elif len(part) > 1 and part.startswith("0"):
                numbers.append(int(part, 8))
            else:
                if not part.isdigit():
                    return None
                numbers.append(int(part, 10))
        except ValueError:
            return None
    # inet_aton: a.b.c.d, a.b.(16 bits), a.(24 bits), (32 bits)
    last_bits = 8 * (5 - len(numbers))
    if any(n > 255 for n in numbers[:-1]) or numbers[-1] >= 1 << last_bits:
        return None
    value = 0
    for n in numbers[:-1]:
        value = (value << 8) | n
    value = (value << last_bits) | numbers[-1]
    return ipaddress.IPv4Address(value)


def ip_block_reason(ip: IPAddress) -> str | None:
    """Say why ``ip`` must not be fetched, or return ``None`` for a public address.

    IPv4-mapped, 6to4, Teredo and NAT64 IPv6 forms are judged by the IPv4
    address they embed.

    Args:
        ip: The address to judge.

    Returns:
        A short reason such as ``"loopback"``, or ``None``.
    """
    if ip in _METADATA_IPS:
        return "cloud metadata address"
    if isinstance(ip, ipaddress.IPv6Address):
        embedded: ipaddress.IPv4Address | None = ip.ipv4_mapped or ip.sixtofour
        if embedded is None and ip.teredo is not None:
            embedded = ip.teredo[1]
        if embedded is None and ip in _NAT64:
            embedded = ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
        if embedded is not None:
            reason = ip_block_reason(embedded)
            return f"{reason} (embedded in IPv6)" if reason else None
    checks = (
        ("unspecified", ip.is_unspecified),
        ("loopback", ip.is_loopback),
        ("link-local", ip.is_link_local),
        ("multicast", ip.is_multicast),
        ("private", ip.is_private),
        ("reserved", ip.is_reserved),
    )
    for reason, hit in checks:
        if hit:
            return reason
    if not ip.is_global:
        return "not a public address"
    return None


@dataclass(frozen=True)
class AddressPolicy:
    """Which destinations the SSRF guard refuses: every non-public address, minus exemptions.

    The default (no exemptions) is what users get. Exemptions are set in code only
    (tests pointing the guarded loop at a loopback test web, a deployment wiring in
    one internal service); ``DEEPSEARCH_ALLOW_PRIVATE_URLS=1`` stays the only switch
    users have. Cloud metadata addresses are never exempt.
    """

    exempt: tuple[tuple[IPNetwork, int | None], ...] = ()

    @classmethod
    def allowing(cls, *targets: str) -> AddressPolicy:
        """Build a policy exempting ``targets``: ``"127.0.0.1:8080"``, ``"10.0.0.0/8"``, ...

        A target without a port exempts every port of that address or network.

        Raises:
            ValueError: For a target that is not an address or network with an optional port.
        """
        exempt: list[tuple[IPNetwork, int | None]] = []
        for target in targets:
            address, port = target.strip(), None
            if address.startswith("["):
                address, _, rest = address[1:].partition("]")
                port = int(rest[1:]) if rest.startswith(":") else None
            elif address.count(":") == 1:
                address, _, port_text = address.partition(":")
                port = int(port_text)
            exempt.append((ipaddress.ip_network(address, strict=False), port))
        return cls(tuple(exempt))

    def block_reason(self, ip: IPAddress, port: int) -> str | None:
        """Say why ``ip:port`` is refused, or return ``None`` when it may be fetched."""
        reason = ip_block_reason(ip)
        if reason is None or ip in _METADATA_IPS:
            return reason
        for network, exempt_port in self.exempt:
            if ip.version == network.version and ip in network and exempt_port in (None, port):
                return None
        return reason


PUBLIC_ONLY = AddressPolicy()
"""The production policy: only public addresses."""


def check_url_static(url: str, policy: AddressPolicy = PUBLIC_ONLY) -> tuple[str, int]:
    """Check everything about ``url`` that needs no DNS; return its host and port.

    Args:
        url: The URL to check.
        policy: Which addresses to refuse (default: every non-public one).

    Returns:
        ``(host, port)`` of the URL.

    Raises:
        BlockedURLError: For a non-http(s) scheme, credentials, a missing host,
            a blocked IP literal (any spelling) or a local/metadata hostname.
    """
    if len(url) > _MAX_URL_LENGTH:
        raise BlockedURLError(url[:100] + "...", "URL too long")
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError as exc:
        raise BlockedURLError(url, f"unparsable URL ({exc})") from None
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS:
        raise BlockedURLError(url, f"scheme {scheme or '(none)'!r} is not http(s)")
    if "@" in parts.netloc:
        raise BlockedURLError(url, "credentials in URL")
    host = (parts.hostname or "").rstrip(".").lower()
    if not host:
        raise BlockedURLError(url, "no host")
    if any(ch in host for ch in "\\ \t\r\n%"):
        raise BlockedURLError(url, "invalid characters in host")
    if host in _METADATA_HOSTS:
        raise BlockedURLError(url, "cloud metadata host")
    if host == "localhost" or host.endswith((".localhost", ".local", ".internal")):
        raise BlockedURLError(url, "local hostname")
    port = port or _DEFAULT_PORTS[scheme]
    ip = parse_ip(host)
    if ip is not None:
        reason = policy.block_reason(ip, port)
        if reason:
            raise BlockedURLError(url, reason)
    return host, port


async def system_resolver(host: str, port: int) -> list[str]:
    """Resolve ``host`` with the event loop's ``getaddrinfo``.

    Args:
        host: The hostname.
        port: The port (passed through to ``getaddrinfo``).

    Returns:
        The distinct addresses, in resolver order.
    """
    loop = asyncio.get_running_loop()
    infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    addresses: list[str] = []
    for info in infos:
        address = str(info[4][0])
        if address not in addresses:
            addresses.append(address)
    return addresses


async def resolve_checked(
    url: str,
    host: str,
    port: int,
    resolver: Resolver | None = None,
    policy: AddressPolicy = PUBLIC_ONLY,
) -> list[str]:
    """Resolve ``host`` and require every address to be public.

    Args:
        url: The URL being checked (for the error message).
        host: The hostname or address literal.
        port: The port.
        resolver: How to resolve names; defaults to :func:`system_resolver`.
        policy: Which addresses to refuse (default: every non-public one).

    Returns:
        The checked addresses, to connect to.

    Raises:
        BlockedURLError: If resolution fails or any address is not public.
    """
    literal = parse_ip(host)
    if literal is not None:
        reason = policy.block_reason(literal, port)
        if reason:
            raise BlockedURLError(url, reason)
        return [str(literal)]
    try:
        addresses = await (resolver or system_resolver)(host, port)
    except (OSError, UnicodeError) as exc:
        raise BlockedURLError(url, f"cannot resolve {host!r} ({exc})") from None
    if not addresses:
        raise BlockedURLError(url, f"{host!r} resolves to no address")
    for address in addresses:
        ip = parse_ip(address)
        if ip is None:
            raise BlockedURLError(url, f"{host!r} resolves to a non-address {address!r}")
        reason = policy.block_reason(ip, port)
        if reason:
            raise BlockedURLError(url, f"{host!r} resolves to {address} ({reason})")
    return addresses


async def check_url(
    url: str,
    *,
    allow_private: bool,
    resolver: Resolver | None = None,
    policy: AddressPolicy = PUBLIC_ONLY,
) -> None:
    """Refuse URLs that could reach local, private or metadata services.

    Checks scheme, credentials, IP literals in every spelling, local hostnames,
    and then resolves the host: every address it resolves to must be public.

    Args:
        url: The URL to check.
        allow_private: ``True`` disables the guard (tests, trusted deployments).
        resolver: How to resolve names; defaults to the event loop's ``getaddrinfo``.
        policy: Which addresses to refuse (default: every non-public one).

    Raises:
        BlockedURLError: With the reason the URL is refused.
    """
    if allow_private:
        return
    host, port = check_url_static(url, policy)
    await resolve_checked(url, host, port, resolver, policy)


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
