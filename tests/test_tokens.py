"""Token estimates before a call, calibrated by reported usage; context windows by name."""

from __future__ import annotations

from deepsearch.settings import Settings
from deepsearch.tools.tokens import (
    DEFAULT_CONTEXT_WINDOW,
    TokenCounter,
    configured_context_window,
    known_context_window,
)


def settings(**env: object) -> Settings:
    return Settings(_env_file=None, **env)  # type: ignore[call-arg, arg-type]


def test_the_estimate_learns_the_ratio_a_provider_reports() -> None:
    counter = TokenCounter()
    text = "word " * 400  # 2,000 characters
    first = counter.count(text)
    counter.observe(len(text), 500)  # the provider said 4 characters a token
    assert counter.count(text) == 500
    assert first > 500  # the prior is cautious: it overestimates ordinary prose


def test_tiny_or_empty_observations_do_not_move_the_ratio() -> None:
    counter = TokenCounter()
    before = counter.chars_per_token
    counter.observe(50, 40)
    counter.observe(5_000, 0)
    assert counter.chars_per_token == before
    assert counter.count("") == 0


def test_context_windows_come_from_settings_then_known_families() -> None:
    assert known_context_window("gpt-4o-mini") == 128_000
    assert known_context_window("openai/gpt-4.1-mini") == 1_047_576
    assert known_context_window("qwen2.5:7b") == 32_768
    assert known_context_window("my-own-model") is None
    assert configured_context_window(settings(DEEPSEARCH_LLM_CONTEXT=4096)) == 4096
    assert configured_context_window(settings(DEEPSEARCH_MODEL="gpt-4o")) == 128_000
    unknown = settings(DEEPSEARCH_MODEL="my-own-model")
    assert configured_context_window(unknown) == DEFAULT_CONTEXT_WINDOW
