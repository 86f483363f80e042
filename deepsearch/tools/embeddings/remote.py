"""What the remote embeddings and reranker clients share: the wire helpers and one base.

:class:`JSONEndpoint` holds an endpoint, headers, timeout, retries and an
optional client, and POSTs JSON with retries; :class:`BatchedEmbeddings` embeds
texts in bounded batches of any OpenAI-format embeddings API (OpenAI, Jina).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
from pydantic import SecretStr

from deepsearch.settings import Settings
from deepsearch.tools.base import Embeddings, ProviderError
from deepsearch.tools.http import request_with_retries

MAX_BATCH = 64  # texts per request
MAX_INPUT_CHARS = 4000  # ~1000 tokens per text: far below every model's context


def bound_text(text: str, limit: int) -> str:
    """Cut ``text`` to ``limit`` characters; empty texts become a single space.

    Args:
        text: Any text.
        limit: Maximum characters.

    Returns:
        A non-empty text of at most ``limit`` characters (APIs refuse empty inputs).
    """
    text = (text or "")[:limit]
    return text if text.strip() else " "


def batched(items: list[str], size: int) -> Iterator[list[str]]:
    """Yield consecutive slices of ``items`` of at most ``size`` elements.

    Args:
        items: The list to split.
        size: Slice size.

    Yields:
        The slices, in order.
    """
    for start in range(0, len(items), size):
        yield items[start : start + size]


async def post_json(
    client: httpx.AsyncClient | None,
    url: str,
    body: dict[str, Any],
    headers: dict[str, str],
    provider: str,
    timeout: float,
    *,
    retries: int = 2,
    backoff_base: float = 0.5,
) -> Any:
    """POST ``body`` as JSON with retries (429 and 5xx honour Retry-After) and parse the reply.

    Args:
        client: A client to reuse, or ``None`` to open one for this call.
        url: The endpoint.
        body: The JSON body.
        headers: Request headers.
        provider: Provider name for errors.
        timeout: Seconds per attempt when a client is opened here.
        retries: Extra attempts after the first.
        backoff_base: First backoff delay in seconds.

    Returns:
        The decoded JSON reply.

    Raises:
        ProviderError: On transport errors, HTTP errors or a non-JSON reply.
    """
    own = client is None
    http = client or httpx.AsyncClient(timeout=timeout)
    try:
        response = await request_with_retries(
            http,
            "POST",
            url,
            provider=provider,
            retries=retries,
            backoff_base=backoff_base,
            json=body,
            headers=headers,
        )
    except ProviderError:
        raise
    except httpx.HTTPError as exc:
        raise ProviderError(provider, f"request failed: {exc!r}", retryable=True) from None
    finally:
        if own:
            await http.aclose()
    if response.status_code >= 400:
        retryable = response.status_code == 429 or response.status_code >= 500
        raise ProviderError(
            provider, f"HTTP {response.status_code}: {response.text[:300]}", retryable=retryable
        )
    try:
        return response.json()
    except ValueError:
        raise ProviderError(provider, "reply is not JSON") from None


def parse_embeddings(data: Any, count: int, provider: str) -> tuple[list[list[float]], int]:
    """Read an OpenAI-format embeddings reply: vectors in input order and total tokens.

    Args:
        data: The decoded reply ``{"data":[{"index","embedding"}],"usage":{...}}``.
        count: How many inputs were sent.
        provider: Provider name for errors.

    Returns:
        ``count`` vectors and the reported tokens (0 when not reported).

    Raises:
        ProviderError: When the reply is malformed or has the wrong number of vectors.
    """
    if not isinstance(data, dict) or not isinstance(data.get("data"), list):
        raise ProviderError(provider, "malformed embeddings reply: no data list")
    items = data["data"]
    if len(items) != count:
        raise ProviderError(provider, f"got {len(items)} embeddings for {count} inputs")
    vectors: list[list[float] | None] = [None] * count
    for position, item in enumerate(items):
        if not isinstance(item, dict) or not isinstance(item.get("embedding"), list):
            raise ProviderError(provider, "malformed embedding item")
        index = item.get("index", position)
        if not isinstance(index, int) or not 0 <= index < count:
            index = position
        try:
            vectors[index] = [float(x) for x in item["embedding"]]
        except (TypeError, ValueError):
            raise ProviderError(provider, "embedding holds non-numbers") from None
    if any(v is None for v in vectors):
        raise ProviderError(provider, "embedding indexes do not cover the inputs")
    usage = data.get("usage") if isinstance(data.get("usage"), dict) else {}
    tokens = usage.get("total_tokens", usage.get("prompt_tokens", 0)) if usage else 0
    try:
        total = max(int(tokens), 0)
    except (TypeError, ValueError):
        total = 0
    return [v for v in vectors if v is not None], total


class JSONEndpoint:
    """Base of clients that POST JSON to one endpoint configured by the settings."""

    name: str

    def __init__(
        self,
        settings: Settings,
        *,
        client: httpx.AsyncClient | None = None,
        retries: int = 2,
        backoff_base: float = 0.5,
    ) -> None:
        """Use the endpoint and key the settings give (see :meth:`endpoint`, :meth:`api_key`).

        Args:
            settings: Process settings (endpoint, key, ``fetch_timeout``).
            client: A client to reuse (tests, pooling); by default one per call.
            retries: Extra attempts on 429, 5xx and transport errors.
            backoff_base: First backoff delay in seconds.
        """
        self.settings = settings
        self.url = self.endpoint(settings)
        key = self.api_key(settings)
        self.headers = json_headers(key.get_secret_value() if key is not None else None)
        self.timeout = settings.fetch_timeout
        self.client = client
        self.retries = retries
        self.backoff_base = backoff_base

    def endpoint(self, settings: Settings) -> str:
        """Return the URL this client POSTs to."""
        raise NotImplementedError

    def api_key(self, settings: Settings) -> SecretStr | None:
        """Return the bearer key to send, if any."""
        return None

    async def _post(self, body: dict[str, Any]) -> Any:
        """POST ``body`` to the endpoint and return the decoded JSON reply."""
        return await post_json(
            self.client,
            self.url,
            body,
            self.headers,
            self.name,
            self.timeout,
            retries=self.retries,
            backoff_base=self.backoff_base,
        )


class BatchedEmbeddings(JSONEndpoint):
    """Base of :class:`~deepsearch.tools.base.Embedder` clients for OpenAI-format replies."""

    def request_body(self, batch: list[str]) -> dict[str, Any]:
        """Return the JSON body that asks for the embeddings of ``batch``."""
        raise NotImplementedError

    async def embed(self, texts: list[str]) -> Embeddings:
        """Embed ``texts`` in bounded batches.

        Args:
            texts: The texts (each cut to a bounded length).

        Returns:
            One vector per text and the tokens the server reports.

        Raises:
            ProviderError: On HTTP errors, rate limits after retries, or a malformed reply.
        """
        vectors: list[list[float]] = []
        tokens = 0
        for batch in batched([bound_text(t, MAX_INPUT_CHARS) for t in texts], MAX_BATCH):
            data = await self._post(self.request_body(batch))
            batch_vectors, batch_tokens = parse_embeddings(data, len(batch), self.name)
            vectors.extend(batch_vectors)
            tokens += batch_tokens
        return Embeddings(vectors=vectors, tokens=tokens)


def json_headers(api_key: str | None) -> dict[str, str]:
    """Return JSON request headers, with a bearer ``Authorization`` when a key is given."""
    headers = {"Accept": "application/json", "Content-Type": "application/json"}
    if api_key is not None:
        headers["Authorization"] = f"Bearer {api_key}"
    return headers
