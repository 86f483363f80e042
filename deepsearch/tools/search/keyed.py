"""What the keyed JSON search APIs (Jina, Brave, Serper) share: configuration and one call."""

from __future__ import annotations

from typing import Any, ClassVar

import httpx

from deepsearch.tools.http import (
    MAX_QUERY_CHARS,
    clamp_results,
    parse_json,
    provider_client,
    request_with_retries,
)


def prepare_query(query: str, num_results: int) -> tuple[str, int] | None:
    """Trim and bound a query and its result count; None for an empty query."""
    query = query.strip()[:MAX_QUERY_CHARS]
    return (query, clamp_results(num_results)) if query else None


class KeyedJSONSearch:
    """Base of search providers that call one JSON endpoint with an API key."""

    name: str
    default_url: ClassVar[str]
    default_timeout: ClassVar[float] = 20.0

    def __init__(
        self,
        api_key: str,
        *,
        base_url: str | None = None,
        timeout: float | None = None,
        retries: int = 2,
        client: httpx.AsyncClient | None = None,
    ) -> None:
        """Configure the provider.

        Args:
            api_key: The provider's API key.
            base_url: The search endpoint (overridable for tests and proxies).
            timeout: Seconds per attempt; the provider's default when None.
            retries: Extra attempts on transient failures.
            client: A client to reuse; by default one per call.
        """
        self._api_key = api_key
        self._base_url = base_url or self.default_url
        self._timeout = timeout if timeout is not None else self.default_timeout
        self._retries = retries
        self._client = client

    async def _call(self, method: str, **request: Any) -> Any:
        """Send one request (with retries) to the endpoint and return its decoded JSON."""
        async with provider_client(self._client, self._timeout) as client:
            response = await request_with_retries(
                client,
                method,
                self._base_url,
                provider=self.name,
                retries=self._retries,
                **request,
            )
        return parse_json(response, self.name)
