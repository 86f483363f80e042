"""Hostile inputs for the SSRF suite: URLs that point inside the machine, and a search
endpoint, a DNS and a reader that serve them to the research loop.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from deepsearch.tools.base import Page, Reader


def loopback_urls(port: int) -> list[str]:
    """Spellings of this machine, each on its own host so the ranking keeps them all."""
    forms = [
        "127.0.0.1",
        "localhost",
        "LOCALHOST.",
        "admin.localhost",
        "2130706433",  # decimal
        "0x7f000001",  # hex
        "0177.0.0.1",  # octal
        "0x7f.1",
        "127.1",
        "127.0.0.1.",
        "0",
        "0.0.0.0",
        "[::1]",
        "[::ffff:127.0.0.1]",
        "[::ffff:7f00:1]",
        "[0:0:0:0:0:ffff:7f00:1]",
        "[::]",
        "[2002:7f00:1::]",  # 6to4 around 127.0.0.1
        "[64:ff9b::7f00:1]",  # NAT64 around 127.0.0.1
    ]
    urls = [f"http://{host}:{port}/admin?form={i}" for i, host in enumerate(forms)]
    urls += [
        f"http://user:secret@127.0.0.2:{port}/",  # credentials
        f"http://example.org@127.0.0.3:{port}/",  # userinfo that looks like a host
        f"https://127.0.0.4:{port}/",
    ]
    return urls


INTERNAL_URLS = [
    "http://10.0.0.1/",
    "http://172.16.5.4:8080/",
    "http://192.168.1.1/",
    "http://169.254.169.254/latest/meta-data/iam/security-credentials/",
    "http://169.254.170.2/v2/credentials",
    "http://100.100.100.200/latest/meta-data/",
    "http://metadata.google.internal/computeMetadata/v1/",
    "http://metadata/computeMetadata/v1/",
    "http://2852039166/latest/meta-data/",  # 169.254.169.254 in decimal
    "http://0xa9fea9fe/latest/meta-data/",  # ... in hex
    "http://0251.0376.0251.0376/",  # ... in octal
    "http://[::ffff:169.254.169.254]/",
    "http://[fd00:ec2::254]/latest/meta-data/",
    "http://[fe80::1]/",
    "http://[fc00::1]/",
    "http://printer.local/",
    "http://db.internal/",
]

NON_HTTP_URLS = [
    "file:///etc/passwd",
    "gopher://127.0.0.1:25/_HELO",
    "ftp://10.0.0.1/",
    "dict://127.0.0.1:11211/stat",
    "javascript:alert(1)",
]


def search_app(urls: list[str]) -> Starlette:
    """A SearXNG-compatible endpoint that answers every query with ``urls``."""

    async def search(request: Request) -> Response:
        results = [
            {"url": url, "title": f"Result {i}", "content": "A useful page.", "engine": "evil"}
            for i, url in enumerate(urls)
        ]
        return JSONResponse({"query": request.query_params.get("q", ""), "results": results})

    return Starlette(routes=[Route("/search", search)])


Resolver = Callable[[str, int], Awaitable[list[str]]]


@dataclass
class HostileDNS:
    """A resolver under test control: fixed answers, or a public answer once, then private.

    ``rebind`` names answer a public address on their first lookup and a private one
    afterwards (DNS rebinding between the check and the connection).
    """

    answers: dict[str, list[str]]
    rebind: dict[str, str] = field(default_factory=dict)
    lookups: list[str] = field(default_factory=list)

    async def resolve(self, host: str, port: int) -> list[str]:
        """Answer a lookup."""
        self.lookups.append(host)
        if host in self.rebind:
            first = self.lookups.count(host) == 1
            return ["93.184.216.34"] if first else [self.rebind[host]]
        if host in self.answers:
            return self.answers[host]
        raise OSError(f"no such host {host!r}")


@dataclass
class LinkingReader:
    """Serves in-memory pages for some URLs and hands every other URL to ``fallback``.

    Lets a trusted-looking page (``https://evil.example/...``) link to private
    addresses, which then reach the real reader behind it.
    """

    pages: dict[str, Page]
    fallback: Reader
    name: str = "linking"

    async def read(self, url: str) -> Page:
        """Return the in-memory page, or read ``url`` with the fallback reader."""
        if url in self.pages:
            return self.pages[url]
        return await self.fallback.read(url)
