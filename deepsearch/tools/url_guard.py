"""The SSRF guard's checks: which URLs and addresses may be fetched.

URLs come from untrusted places (search results, pages, model output, user
messages). :func:`check_url` refuses anything that is not a public http(s)
address: IP literals in every spelling, local and metadata names, and names
resolving to a non-public address. An :class:`AddressPolicy` set in code may
exempt exact addresses (tests, one internal service); users only have
``DEEPSEARCH_ALLOW_PRIVATE_URLS``.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

from deepsearch.tools.base import BlockedURLError

Resolver = Callable[[str, int], Awaitable[list[str]]]
"""Resolve ``(host, port)`` to a list of IP address strings."""

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

DEFAULT_PORTS = {"http": 80, "https": 443}
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
    if scheme not in DEFAULT_PORTS:
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
    port = port or DEFAULT_PORTS[scheme]
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
