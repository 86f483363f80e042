"""The SSRF guard and URL helpers, against a real local server and injected DNS."""

from __future__ import annotations

import ipaddress
import socket
import ssl
from pathlib import Path

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from deepsearch.tools.base import BlockedURLError
from deepsearch.tools.urls import (
    AddressPolicy,
    check_url,
    hostname,
    ip_block_reason,
    make_guarded_client,
    normalize_url,
    parse_ip,
)
from tests.support_search.server import LocalServer, Recorded, Reply, serve


def fake_dns(table: dict[str, list[str]], calls: list[str] | None = None):
    """Return a resolver that answers from ``table`` (no real DNS offline)."""

    async def resolve(host: str, port: int) -> list[str]:
        if calls is not None:
            calls.append(host)
        if host not in table:
            raise OSError(f"no such host {host}")
        return table[host]

    return resolve


def only(port: int) -> AddressPolicy:
    """Policy for tests: the one local test server on ``port`` is 'public', nothing else is."""
    return AddressPolicy.allowing(f"127.0.0.1:{port}")


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("HTTP://Example.COM:80/a?utm_source=x&b=2#frag", "http://example.com/a?b=2"),
        ("https://example.com:443", "https://example.com/"),
        ("https://example.com:8443/x", "https://example.com:8443/x"),
        ("https://example.com/x?q=a%20b&utm_medium=y&gclid=1", "https://example.com/x?q=a+b"),
        ("https://example.com/x?q=a%20b", "https://example.com/x?q=a%20b"),
        ("https://example.com./", "https://example.com/"),
        ("corpus://hotpotqa/Lilu#2", "corpus://hotpotqa/Lilu"),
        ("  https://[2001:DB8::1]:443/p  ", "https://[2001:db8::1]/p"),
    ],
)
def test_normalize_url(url: str, expected: str) -> None:
    assert normalize_url(url) == expected


def test_hostname() -> None:
    assert hostname("https://Example.COM./a") == "example.com"
    assert hostname("not a url") == ""
    assert hostname("http://[::1]:8080/") == "::1"
    # corpus documents have no hosts: each document counts as its own
    assert hostname("corpus://hotpotqa/Lilu_(mythology)#2") == "corpus://hotpotqa/Lilu_(mythology)"
    assert hostname("corpus://hotpotqa/A") != hostname("corpus://hotpotqa/B")


@pytest.mark.parametrize(
    ("host", "ip"),
    [
        ("2130706433", "127.0.0.1"),
        ("0x7f.1", "127.0.0.1"),
        ("017700000001", "127.0.0.1"),
        ("127.1", "127.0.0.1"),
        ("0x7f000001", "127.0.0.1"),
        ("0177.0.0.01", "127.0.0.1"),
        ("10.1.65535", "10.1.255.255"),
        ("[::ffff:127.0.0.1]", "::ffff:127.0.0.1"),
    ],
)
def test_parse_ip_legacy_spellings(host: str, ip: str) -> None:
    assert parse_ip(host) == ipaddress.ip_address(ip)


@pytest.mark.parametrize("host", ["example.com", "1.2.3.4.5", "256.1.1.1", "0x", "09.1.1.1"])
def test_parse_ip_rejects_names(host: str) -> None:
    assert parse_ip(host) is None or host == "0x"


BLOCKED = [
    "file:///etc/passwd",
    "ftp://example.com/",
    "gopher://example.com/",
    "javascript:alert(1)",
    "http://user:pass@example.com/",
    "http://user@example.com/",
    "http://127.0.0.1/",
    "http://127.0.0.1:8080/admin",
    "http://localhost/",
    "http://LOCALHOST./",
    "http://app.localhost/",
    "http://10.0.0.1/",
    "http://172.16.5.4/",
    "http://192.168.1.1/",
    "http://100.64.0.1/",
    "http://169.254.1.1/",
    "http://169.254.169.254/latest/meta-data/",
    "http://metadata.google.internal/computeMetadata/v1/",
    "http://[fd00:ec2::254]/",
    "http://0.0.0.0/",
    "http://[::]/",
    "http://[::1]/",
    "http://[fe80::1]/",
    "http://[fc00::1]/",
    "http://[::ffff:127.0.0.1]/",
    "http://[::ffff:7f00:1]/",
    "http://[::ffff:169.254.169.254]/",
    "http://[64:ff9b::a9fe:a9fe]/",
    "http://[2002:7f00:1::]/",
    "http://224.0.0.1/",
    "http://[ff02::1]/",
    "http://240.0.0.1/",
    "http://255.255.255.255/",
    "http://2130706433/",
    "http://0x7f.1/",
    "http://017700000001/",
    "http://0x7f000001/",
    "http://127.1/",
    "http:///nohost",
    "http://[::1/",
]


@pytest.mark.parametrize("url", BLOCKED)
async def test_check_url_blocks(url: str) -> None:
    with pytest.raises(BlockedURLError):
        await check_url(url, allow_private=False, resolver=fake_dns({}))


@pytest.mark.parametrize("url", ["http://93.184.216.34/", "https://[2606:4700::1111]/x"])
async def test_check_url_allows_public_literals(url: str) -> None:
    await check_url(url, allow_private=False, resolver=fake_dns({}))


@pytest.mark.parametrize(
    "addresses",
    [
        ["127.0.0.1"],
        ["93.184.216.34", "10.0.0.7"],
        ["::1"],
        ["::ffff:192.168.0.1"],
        ["169.254.169.254"],
        ["0.0.0.0"],
        [],
    ],
)
async def test_check_url_blocks_names_resolving_to_private(addresses: list[str]) -> None:
    resolver = fake_dns({"sneaky.example": addresses})
    with pytest.raises(BlockedURLError) as err:
        await check_url("https://sneaky.example/", allow_private=False, resolver=resolver)
    assert "sneaky.example" in str(err.value)


async def test_check_url_resolution_public_and_failure() -> None:
    resolver = fake_dns({"good.example": ["93.184.216.34", "2606:2800:220:1::1"]})
    await check_url("https://good.example/a", allow_private=False, resolver=resolver)
    with pytest.raises(BlockedURLError, match="cannot resolve"):
        await check_url("https://missing.example/", allow_private=False, resolver=resolver)


async def test_check_url_allow_private_disables_guard() -> None:
    await check_url("http://127.0.0.1/", allow_private=True)
    await check_url("file:///etc/passwd", allow_private=True)


async def test_ip_block_reason_labels() -> None:
    assert ip_block_reason(ipaddress.ip_address("169.254.169.254")) == "cloud metadata address"
    assert ip_block_reason(ipaddress.ip_address("127.0.0.1")) == "loopback"
    assert ip_block_reason(ipaddress.ip_address("::ffff:10.0.0.1")) == "private (embedded in IPv6)"
    assert ip_block_reason(ipaddress.ip_address("8.8.8.8")) is None


@pytest.mark.parametrize(
    ("url", "allowed"),
    [
        ("http://127.0.0.1:8123/page", True),
        ("http://0x7f.1:8123/page", True),  # any spelling of the exempt address
        ("http://[::ffff:127.0.0.1]:8123/", False),  # exemptions are per address family
        ("http://127.0.0.1:8124/page", False),  # same address, other port
        ("http://127.0.0.2:8123/page", False),
        ("http://10.9.8.7/", True),  # a whole network, every port
        ("http://10.9.8.7:22/", True),
        ("http://10.10.0.1/", False),
        ("http://169.254.169.254/latest/meta-data/", False),  # metadata is never exempt
        ("http://localhost:8123/", False),  # local names stay refused
    ],
)
async def test_an_address_policy_exempts_exactly_what_it_lists(url: str, allowed: bool) -> None:
    policy = AddressPolicy.allowing("127.0.0.1:8123", "10.9.0.0/16", "169.254.169.254")
    if allowed:
        await check_url(url, allow_private=False, policy=policy)
    else:
        with pytest.raises(BlockedURLError):
            await check_url(url, allow_private=False, policy=policy)
    with pytest.raises(BlockedURLError):  # the default policy exempts nothing
        await check_url(url, allow_private=False)


async def test_an_address_policy_applies_to_resolved_names() -> None:
    resolver = fake_dns({"web.test": ["127.0.0.1"], "db.test": ["10.0.0.5"]})
    policy = AddressPolicy.allowing("[::1]", "127.0.0.1:8123")
    await check_url("http://web.test:8123/", allow_private=False, resolver=resolver, policy=policy)
    for url in ("http://web.test:8124/", "http://db.test:8123/"):
        with pytest.raises(BlockedURLError, match="resolves to"):
            await check_url(url, allow_private=False, resolver=resolver, policy=policy)


def test_an_address_policy_refuses_nonsense() -> None:
    for target in ("web.test", "127.0.0.1:http", "10.0.0.0/33"):
        with pytest.raises(ValueError):
            AddressPolicy.allowing(target)


def _redirecting_server(location: str):
    def handle(request: Recorded) -> Reply:
        if request.path == "/redirect":
            return Reply(302, b"", {"Location": location})
        return Reply(200, f"hello from {request.headers.get('host')}")

    return serve(handle)


async def test_guarded_client_connects_to_checked_address_only() -> None:
    with _redirecting_server("/final") as server:
        calls: list[str] = []
        resolver = fake_dns({"public.test": ["127.0.0.1"]}, calls)
        async with make_guarded_client(
            allow_private=False, timeout=5, resolver=resolver, policy=only(server.port)
        ) as client:
            response = await client.get(f"http://public.test:{server.port}/redirect")
        assert response.status_code == 200
        assert response.text == f"hello from public.test:{server.port}"
        assert [r.path for r in server.requests] == ["/redirect", "/final"]
        # One resolution for the connection, reused for the same-host redirect.
        assert calls == ["public.test"]


async def test_guarded_client_blocks_name_resolving_to_private() -> None:
    with _redirecting_server("/final") as server:
        async with make_guarded_client(
            allow_private=False, timeout=5, resolver=fake_dns({"rebind.test": ["127.0.0.1"]})
        ) as client:
            with pytest.raises(BlockedURLError, match="loopback"):
                await client.get(f"http://rebind.test:{server.port}/")
        assert server.requests == []


@pytest.mark.parametrize(
    "location",
    [
        "http://169.254.169.254/latest/meta-data/",
        "http://localhost:{port}/final",
        "http://127.0.0.1:{port}/final",
        "http://0x7f.1:{port}/final",
        "http://[::ffff:127.0.0.1]:{port}/final",
        "file:///etc/passwd",
        "http://internal.test:{port}/final",
    ],
)
async def test_guarded_client_checks_every_redirect_hop(location: str) -> None:
    with serve(lambda r: Reply(200, "x")) as probe:
        target = location.format(port=probe.port)
        with _redirecting_server(target) as server:
            resolver = fake_dns({"public.test": ["127.0.0.1"], "internal.test": ["10.1.2.3"]})
            async with make_guarded_client(
                allow_private=False, timeout=5, resolver=resolver, policy=only(server.port)
            ) as client:
                with pytest.raises((BlockedURLError, httpx.UnsupportedProtocol)):
                    await client.get(f"http://public.test:{server.port}/redirect")
            assert [r.path for r in server.requests] == ["/redirect"]
        assert probe.requests == []


async def test_guarded_client_bounds_redirects() -> None:
    def loop(request: Recorded) -> Reply:
        return Reply(302, b"", {"Location": "/again"})

    with serve(loop) as server:
        async with make_guarded_client(
            allow_private=False,
            timeout=5,
            resolver=fake_dns({"public.test": ["127.0.0.1"]}),
            policy=only(server.port),
            max_redirects=3,
        ) as client:
            with pytest.raises(httpx.TooManyRedirects):
                await client.get(f"http://public.test:{server.port}/start")
        assert len(server.requests) == 4


async def test_guarded_client_allow_private_reaches_loopback() -> None:
    with _redirecting_server("/final") as server:
        async with make_guarded_client(allow_private=True, timeout=5) as client:
            response = await client.get(f"{server.url}/redirect")
        assert response.status_code == 200


@settings(max_examples=400, deadline=None)
@given(
    st.lists(
        st.one_of(
            st.integers(0, 2**32).map(str),
            st.integers(0, 2**32).map(hex),
            st.integers(0, 2**32).map(lambda n: "0" + oct(n)[2:]),
            st.sampled_from(["", "0x", "08", "1e3", "256", "00"]),
        ),
        min_size=1,
        max_size=5,
    ).map(".".join)
)
def test_parse_ip_agrees_with_inet_aton(host: str) -> None:
    """Whatever the C resolver would connect to, the guard sees the same address."""
    try:
        expected = ipaddress.IPv4Address(socket.inet_aton(host))
    except OSError:
        expected = None
    parsed = parse_ip(host)
    if expected is not None:
        assert parsed == expected
    elif parsed is not None:  # we may be stricter than inet_aton, never looser
        assert isinstance(parsed, ipaddress.IPv4Address)


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=60))
def test_normalize_and_hostname_never_raise(text: str) -> None:
    normalize_url(text)
    normalize_url("https://" + text)
    hostname("http://" + text)


def _tls_material(tmp: Path, name: str) -> tuple[ssl.SSLContext, ssl.SSLContext]:
    """Return (server context for ``name``, client context trusting only the test CA)."""
    import datetime

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    now = datetime.datetime.now(datetime.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "deepsearch test CA")])
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    leaf = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    cert_file, key_file = tmp / "leaf.pem", tmp / "leaf.key"
    cert_file.write_bytes(leaf.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    server_ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_ctx.load_cert_chain(cert_file, key_file)
    client_ctx = ssl.create_default_context(
        cadata=ca.public_bytes(serialization.Encoding.PEM).decode()
    )
    return server_ctx, client_ctx


async def test_pinned_https_still_verifies_the_hostname(tmp_path: Path) -> None:
    pytest.importorskip("cryptography")
    server_ctx, client_ctx = _tls_material(tmp_path, "public.test")
    server = LocalServer(lambda r: Reply(200, f"tls to {r.headers.get('host')}"))
    server._server.socket = server_ctx.wrap_socket(server._server.socket, server_side=True)
    server.start()
    try:
        resolver = fake_dns({"public.test": ["127.0.0.1"], "other.test": ["127.0.0.1"]})
        async with make_guarded_client(
            allow_private=False,
            timeout=5,
            resolver=resolver,
            policy=only(server.port),
            verify=client_ctx,
        ) as client:
            response = await client.get(f"https://public.test:{server.port}/")
            assert response.text == f"tls to public.test:{server.port}"
            # Same address, other name: the certificate does not match, so no connection.
            with pytest.raises(httpx.ConnectError):
                await client.get(f"https://other.test:{server.port}/")
    finally:
        server.stop()
