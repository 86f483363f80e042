"""The ``deep_search`` tool's result: Markdown with footnotes, and the same as structured content.

The Markdown is what a host shows and its model reads: the answer with ``[^n]``
markers, then one footnote per reference with its title, URL, date and the exact
quote that backs the claim. The structured content carries the same references as
data, plus the URLs seen and read and the tokens spent, under :data:`output_schema`.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from deepsearch.api import DeepSearchResult


class Reference(BaseModel):
    """One footnote of the answer: a quote that occurs in the text read from ``url``."""

    url: str = Field(description="The page the quote was read from.")
    title: str = Field(description="The page's title.")
    exactQuote: str = Field(description="Words copied from the page that back the claim.")
    dateTime: str | None = Field(default=None, description="The page's date, when known.")


class Usage(BaseModel):
    """Tokens the run spent, every model call and provider cost included."""

    prompt_tokens: int
    completion_tokens: int
    total_tokens: int


class DeepSearchOutput(BaseModel):
    """The answer, the sources that prove it, and what the research cost."""

    model_config = ConfigDict(title="deep_search result")

    answer: str = Field(description="The answer in Markdown; [^n] marks cite references[n-1].")
    references: list[Reference] = Field(description="Footnotes, in marker order.")
    visitedURLs: list[str] = Field(description="Every URL the research came across.")
    readURLs: list[str] = Field(description="The URLs whose pages were read.")
    usage: Usage
    mode: Literal["direct", "researched", "beast", "merged", "failed"] = Field(
        description="How the answer came about: from the model's knowledge (direct), "
        "research that passed the checks (researched), a best effort when budget or "
        "attempts ran out (beast), a team's merged answer (merged), or no answer (failed)."
    )
    steps: int = Field(description="Research steps taken.")


def output_schema() -> dict[str, Any]:
    """Return the JSON schema of the tool's structured content."""
    return DeepSearchOutput.model_json_schema()


def structured(result: DeepSearchResult) -> dict[str, Any]:
    """Return a run's result as the tool's structured content."""
    usage = result.usage
    output = DeepSearchOutput(
        answer=result.answer,
        references=[
            Reference(
                url=ref.get("url") or "",
                title=ref.get("title") or "",
                exactQuote=ref.get("exactQuote") or "",
                dateTime=ref.get("dateTime") or None,
            )
            for ref in result.references
        ],
        visitedURLs=list(result.visited_urls),
        readURLs=list(result.read_urls),
        usage=Usage(
            prompt_tokens=int(usage.get("prompt_tokens", 0)),
            completion_tokens=int(usage.get("completion_tokens", 0)),
            total_tokens=int(usage.get("total_tokens", 0)),
        ),
        mode=result.mode if result.mode in _MODES else "failed",  # type: ignore[arg-type]
        steps=result.steps,
    )
    return output.model_dump(mode="json")


_MODES = {"direct", "researched", "beast", "merged", "failed"}


def markdown(result: DeepSearchResult) -> str:
    """Return the answer as Markdown, its references as footnote definitions."""
    lines = [result.answer.strip()]
    if result.references:
        lines.append("")
    for n, ref in enumerate(result.references, start=1):
        url = ref.get("url") or ""
        title = _one_line(ref.get("title") or "") or url
        date = f" ({ref['dateTime']})" if ref.get("dateTime") else ""
        quote = _one_line(ref.get("exactQuote") or "")
        said = f": \u201c{quote}\u201d" if quote else ""
        lines.append(f"[^{n}]: [{_escape_brackets(title)}]({url}){date}{said}")
    return "\n".join(lines)


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _escape_brackets(text: str) -> str:
    return text.replace("[", r"\[").replace("]", r"\]")
