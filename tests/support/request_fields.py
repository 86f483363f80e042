"""Hypothesis strategies for every chat completion request field: valid and invalid values.

``VALID[field]`` draws values OpenAI accepts (and DeepSearch honours); ``INVALID[field]``
draws values of a wrong type or out of range, each of which must get a 400 naming the
field. ``UNSUPPORTED`` holds values OpenAI accepts but DeepSearch refuses (a 400 too).
"""

from __future__ import annotations

import math
from typing import Any

from hypothesis import strategies as st

INT64 = 2**63
# The provider a request may pick on the test server (it searches the local test web;
# arXiv and DuckDuckGo would leave the machine, or keep arXiv's 3-second pause).
CONFIGURED_PROVIDERS = ["searxng"]
UNCONFIGURED_PROVIDERS = ["jina", "brave", "serper", "local"]

text = st.text(max_size=20)
name = st.from_regex(r"[a-zA-Z0-9_-]{1,64}", fullmatch=True)
bools = st.booleans()
# Values of every JSON kind, to draw the wrong ones from (no NaN or infinity: they are not
# JSON, and a body holding them is refused as a whole, before any field is looked at).
scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | text
)
anything = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(text, inner, max_size=3),
    max_leaves=6,
)
not_null = anything.filter(lambda v: v is not None)


def kinds(*allowed: type) -> st.SearchStrategy[Any]:
    """Draw non-null JSON values of any kind except ``allowed`` (bool is not an int)."""

    def wrong(value: Any) -> bool:
        if isinstance(value, bool):
            return bool not in allowed
        if isinstance(value, int) and float in allowed:
            return False
        return not isinstance(value, allowed)

    return not_null.filter(wrong)


def number_in(lo: float, hi: float) -> st.SearchStrategy[float | int]:
    """Draw numbers (decimals and integers) within [lo, hi]."""
    return st.floats(lo, hi) | st.integers(int(lo) if lo == int(lo) else int(lo) + 1, int(hi))


def number_out(lo: float, hi: float) -> st.SearchStrategy[Any]:
    """Draw numbers (decimals and integers) outside [lo, hi], and non-numbers."""
    return (
        st.floats(max_value=lo, exclude_max=True, allow_infinity=False)
        | st.floats(min_value=hi, exclude_min=True, allow_infinity=False)
        | st.integers(max_value=math.ceil(lo) - 1)
        | st.integers(min_value=math.floor(hi) + 1)
        | kinds(float)
    )


def int_in(lo: int, hi: int) -> st.SearchStrategy[int]:
    """Draw integers within [lo, hi]."""
    return st.integers(lo, hi)


def int_out(lo: int, hi: int) -> st.SearchStrategy[Any]:
    """Draw integers outside [lo, hi], integral decimals, and non-numbers."""
    return (
        st.integers(max_value=lo - 1)
        | st.integers(min_value=hi + 1)
        | st.integers(lo, hi).map(float)
        | kinds(int)
    )


def one_of_words(*words: str) -> st.SearchStrategy[str]:
    """Draw one of ``words``."""
    return st.sampled_from(words)


def not_words(*words: str) -> st.SearchStrategy[Any]:
    """Draw strings other than ``words``, and non-strings."""
    return text.filter(lambda t: t not in words) | kinds(str)


def lists_of(item: st.SearchStrategy[Any], max_size: int) -> st.SearchStrategy[list[Any]]:
    """Draw lists of ``item`` no longer than ``max_size``."""
    return st.lists(item, max_size=max_size)


function_tool = st.builds(
    lambda n, d, s: {"type": "function", "function": {"name": n, "description": d, "strict": s}},
    name,
    text,
    st.none() | bools,
)
custom_tool = st.builds(lambda n: {"type": "custom", "custom": {"name": n}}, text)
hostnames = lists_of(st.from_regex(r"[a-z0-9]{1,12}(\.[a-z]{2,6}){1,2}", fullmatch=True), 5)
language = st.from_regex(r"[a-z]{2,3}([-_][A-Za-z0-9]{2,4})?", fullmatch=True)
schema_format = st.just(
    {
        "type": "json_schema",
        "json_schema": {
            "name": "answer",
            "schema": {"type": "object", "properties": {"answer": {"type": "string"}}},
            "strict": True,
        },
    }
)

VALID: dict[str, st.SearchStrategy[Any]] = {
    # standard OpenAI fields
    "model": st.text(max_size=40),
    "stream": bools,
    "stream_options": st.fixed_dictionaries({}, optional={"include_usage": bools}),
    "temperature": number_in(0, 2),
    "top_p": number_in(0, 1),
    "n": st.just(1),
    "stop": text | lists_of(text, 4),
    "user": text,
    "seed": int_in(-INT64, INT64 - 1),
    "tools": lists_of(function_tool | custom_tool, 3),
    "tool_choice": one_of_words("none", "auto")
    | st.just({"type": "allowed_tools", "allowed_tools": {"mode": "auto", "tools": []}}),
    "parallel_tool_calls": bools,
    "functions": lists_of(st.builds(lambda n: {"name": n}, name), 2),
    "function_call": one_of_words("none", "auto"),
    "max_tokens": int_in(1, 2**31 - 1),
    "max_completion_tokens": int_in(1, 100_000_000),
    "presence_penalty": number_in(-2, 2),
    "frequency_penalty": number_in(-2, 2),
    "logit_bias": st.dictionaries(st.integers(0, 200_000).map(str), int_in(-100, 100), max_size=3),
    "logprobs": bools,
    "top_logprobs": int_in(0, 20),
    "metadata": st.dictionaries(st.text(max_size=64), st.text(max_size=512), max_size=16),
    "modalities": st.just(["text"]),
    "audio": st.builds(
        lambda f, v: {"format": f, "voice": v},
        one_of_words("wav", "aac", "mp3", "flac", "opus", "pcm16"),
        one_of_words("alloy", "verse") | st.just({"id": "voice_1"}),
    ),
    "store": bools,
    "service_tier": one_of_words("auto", "default", "flex", "scale", "priority", "fast"),
    "response_format": st.sampled_from([{"type": "text"}, {"type": "json_object"}]) | schema_format,
    "reasoning_effort": one_of_words("none", "minimal", "low", "medium", "high", "xhigh", "max"),
    "prediction": st.builds(
        lambda c: {"type": "content", "content": c},
        text | st.lists(st.builds(lambda t: {"type": "text", "text": t}, text), max_size=2),
    ),
    "web_search_options": st.fixed_dictionaries(
        {},
        optional={
            "search_context_size": one_of_words("low", "medium", "high"),
            "user_location": st.just(
                {"type": "approximate", "approximate": {"city": "Paris", "country": "FR"}}
            ),
        },
    ),
    "verbosity": one_of_words("low", "medium", "high"),
    "safety_identifier": st.text(max_size=128),
    "prompt_cache_key": text,
    "prompt_cache_retention": one_of_words("in_memory", "24h"),
    "prompt_cache_options": st.just({"mode": "implicit", "ttl": "30m"}),
    "moderation": st.just(
        {"model": "omni-moderation-latest", "policy": {"input": {"mode": "score"}}}
    ),
    # DeepSearch fields
    "budget_tokens": int_in(1, 100_000_000),
    "max_attempts": int_in(1, 20),
    "team_size": int_in(1, 8),
    "no_direct_answer": bools,
    "boost_hostnames": hostnames,
    "bad_hostnames": hostnames,
    "only_hostnames": hostnames,
    "search_provider": st.sampled_from(CONFIGURED_PROVIDERS),
    "search_language_code": language,
    "language_code": language,
    "max_returned_urls": int_in(0, 10_000),
    "max_annotations": int_in(0, 1000),
    "max_seconds": st.floats(0.001, 86_400) | int_in(1, 86_400),
}

INVALID: dict[str, st.SearchStrategy[Any]] = {
    "model": kinds(str) | st.text(min_size=257, max_size=260),
    "messages": kinds(list) | st.just([]) | st.lists(kinds(dict), min_size=1, max_size=2),
    "stream": kinds(bool) | one_of_words("yes", "true", "1"),
    "stream_options": kinds(dict) | st.just({"include_usage": "yes"}),
    "temperature": number_out(0, 2),
    "top_p": number_out(0, 1),
    "n": int_out(1, 128),
    "stop": kinds(str, list) | st.just(["a", "b", "c", "d", "e"]) | st.just([1]),
    "user": kinds(str),
    "seed": int_out(-INT64, INT64 - 1),
    "tools": kinds(list)
    | st.just([1])
    | st.just([{"type": "x"}])
    | st.just([{"type": "function"}])
    | st.just([{"type": "function", "function": {"name": "no spaces allowed"}}])
    | st.just([{"type": "function", "function": {"name": "f", "parameters": "x"}}])
    | st.just([{"type": "function", "function": {"name": "f"}}] * 129),
    "tool_choice": not_words("none", "auto", "required").filter(lambda v: not isinstance(v, dict))
    | st.just({"type": "function"})
    | st.just({"type": "x"}),
    "parallel_tool_calls": kinds(bool),
    "functions": kinds(list) | st.just([{"description": "no name"}]),
    "function_call": not_words("none", "auto").filter(lambda v: not isinstance(v, dict))
    | st.just({"name": 5}),
    "max_tokens": int_out(1, 2**31 - 1),
    "max_completion_tokens": int_out(1, 100_000_000),
    "presence_penalty": number_out(-2, 2),
    "frequency_penalty": number_out(-2, 2),
    "logit_bias": kinds(dict)
    | st.just({"abc": 1})
    | st.just({"50256": 101})
    | st.just({"50256": 1.5})
    | st.just({"50256": "1"}),
    "logprobs": kinds(bool),
    "top_logprobs": int_out(0, 20),
    "metadata": kinds(dict)
    | st.just({f"k{i}": "v" for i in range(17)})
    | st.just({"k" * 65: "v"})
    | st.just({"k": "v" * 513})
    | st.just({"k": 1}),
    "modalities": kinds(list) | st.just(["video"]) | st.just([1]),
    "audio": kinds(dict) | st.just({"format": "ogg", "voice": "alloy"}) | st.just({"voice": "x"}),
    "store": kinds(bool),
    "service_tier": not_words("auto", "default", "flex", "scale", "priority", "fast"),
    "response_format": kinds(dict)
    | st.just({"type": "x"})
    | st.just({"type": "json_schema"})
    | st.just({"type": "json_schema", "json_schema": {"schema": {"type": "object"}}})
    | st.just({"type": "json_schema", "json_schema": {"name": "bad name", "schema": {}}})
    | st.just({"type": "json_schema", "json_schema": {"name": "x"}})
    | st.just({"type": "json_schema", "json_schema": {"name": "x", "schema": {"type": 12}}}),
    "reasoning_effort": not_words("none", "minimal", "low", "medium", "high", "xhigh", "max"),
    "prediction": kinds(dict)
    | st.just({"type": "content"})
    | st.just({"type": "x", "content": ""}),
    "web_search_options": kinds(dict) | st.just({"search_context_size": "huge"}),
    "verbosity": not_words("low", "medium", "high"),
    "safety_identifier": kinds(str) | st.text(min_size=129, max_size=130),
    "prompt_cache_key": kinds(str),
    "prompt_cache_retention": not_words("in_memory", "24h"),
    "prompt_cache_options": kinds(dict) | st.just({"ttl": "1h"}),
    "moderation": kinds(dict) | st.just({"policy": {}}),
    "budget_tokens": int_out(1, 100_000_000),
    "max_attempts": int_out(1, 20),
    "team_size": int_out(1, 8),
    "no_direct_answer": kinds(bool) | one_of_words("yes", "no", "1"),
    "boost_hostnames": kinds(list) | st.just([1]) | st.just(["x"] * 101),
    "bad_hostnames": kinds(list) | st.just([None]) | st.just(["h" * 2049]),
    "only_hostnames": kinds(list) | st.just([["nested"]]),
    "search_provider": not_words(
        "jina", "brave", "serper", "duckduckgo", "searxng", "arxiv", "local"
    ),
    "search_language_code": kinds(str) | one_of_words("e", "en US", "1en", "x" * 17, "en-"),
    "language_code": kinds(str) | one_of_words("", "english please", "de;DROP", "zz-" + "a" * 9),
    "max_returned_urls": int_out(0, 10_000),
    "max_annotations": int_out(0, 1000),
    "max_seconds": number_out(0, 86_400) | st.just(0),
}

# Values OpenAI accepts that DeepSearch cannot honour: a 400 ``unsupported_value``.
UNSUPPORTED: dict[str, st.SearchStrategy[Any]] = {
    "n": int_in(2, 128),
    "modalities": st.just(["text", "audio"]),
    "tool_choice": st.just("required")
    | st.just({"type": "function", "function": {"name": "f"}})
    | st.just({"type": "custom", "custom": {"name": "f"}})
    | st.just({"type": "allowed_tools", "allowed_tools": {"mode": "required", "tools": []}}),
    "function_call": st.just({"name": "f"}),
    "search_provider": st.sampled_from(UNCONFIGURED_PROVIDERS),
}


def consistent(body: dict[str, Any]) -> dict[str, Any]:
    """Add what a valid combination needs: stream for stream_options, logprobs for
    top_logprobs."""
    if "stream_options" in body:
        body["stream"] = True
    if "top_logprobs" in body:
        body["logprobs"] = True
    return body


valid_fields = st.fixed_dictionaries({}, optional=VALID).map(consistent)
