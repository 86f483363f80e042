"""URL helpers (normalizing, hostnames) and, re-exported, the SSRF guard.

The guard lives in :mod:`deepsearch.tools.url_guard` (which URLs and addresses may
be fetched) and :mod:`deepsearch.tools.guarded_http` (an ``httpx`` client that
checks every hop and connects only to checked addresses); its names stay
importable from here.
"""

from __future__ import annotations

from functools import lru_cache
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from deepsearch.tools.guarded_http import (
    GuardedNetworkBackend,
    GuardedTransport,
    make_guarded_client,
)
from deepsearch.tools.url_guard import (
    DEFAULT_PORTS,
    PUBLIC_ONLY,
    AddressPolicy,
    IPAddress,
    IPNetwork,
    Resolver,
    check_url,
    check_url_static,
    ip_block_reason,
    parse_ip,
    resolve_checked,
    system_resolver,
)

__all__ = [
    "PUBLIC_ONLY",
    "AddressPolicy",
    "GuardedNetworkBackend",
    "GuardedTransport",
    "IPAddress",
    "IPNetwork",
    "Resolver",
    "check_url",
    "check_url_static",
    "hostname",
    "ip_block_reason",
    "make_guarded_client",
    "normalize_url",
    "parse_ip",
    "resolve_checked",
    "system_resolver",
]

_TRACKING_PARAMS = {"gclid", "fbclid", "msclkid", "mc_cid", "mc_eid", "yclid", "_hsenc", "_hsmi"}


@lru_cache(maxsize=1024)  # every ranking step normalizes the same candidate URLs again
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
    if scheme not in DEFAULT_PORTS:
        return urlunsplit((scheme, parts.netloc, parts.path, parts.query, ""))
    host = (parts.hostname or "").rstrip(".")
    if ":" in host:
        host = f"[{host}]"
    netloc = host
    if port is not None and port != DEFAULT_PORTS[scheme]:
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


@lru_cache(maxsize=4096)  # ranking asks for the same candidates' hosts every step
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
