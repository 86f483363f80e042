"""Rank candidate URLs: which unread pages are most worth reading next.

Combines how often a URL was found, how common its host and path are among the
candidates, how relevant its title and snippet are to the question (awaited,
not a step late), freshness and the hostname controls.
"""

from __future__ import annotations

import heapq
import math
import re
from collections import Counter
from collections.abc import Iterable
from datetime import UTC, datetime
from urllib.parse import unquote, urlsplit

from deepsearch.state import Candidate
from deepsearch.tools.base import Relevance
from deepsearch.tools.embeddings.local import LexicalIndex, lexical_scores, tokenize
from deepsearch.tools.names import heading_name, name_terms
from deepsearch.tools.urls import hostname, normalize_url

# Feature weights, tuned on the HotpotQA/MuSiQue train splits (benchmarks/bench_evidence.py).
W_RELEVANCE = 0.55
W_TITLE = 0.2
# Feedback holds on the held-back halves (bench_evidence "check"): at 0 recall@5 drops
# ~8 points on HotpotQA and ~11 on MuSiQue; larger weights help these all-multi-hop sets
# further, but would crowd out direct matches for single-hop questions, so it stays below 1.
W_FEEDBACK = 0.9  # relevance to names found in the best results (multi-hop bridges)
FEEDBACK_TOP = 1
W_HITS = 0.1
W_HOST = 0.05
W_PATH = 0.03
W_FRESH = 0.07
# The engine's own order (reciprocal rank, see nodes/search.py): it ranked on the full
# text, where we only see a title and a snippet that may be one sentence.
W_ENGINE = 0.3
BOOST = 0.5
# A link found on a page is scored on its own anchor text and URL only, and weighs less
# than a search hit with the same text: it ranks above unread search results only when
# its own text matches the question better.
WEAK_FACTOR = 0.7
# Past ``per_host`` results of one host, further ones are pushed down the ranking (their
# score multiplied by this), never hidden; only when other hosts have results to read.
HOST_OVERFLOW_FACTOR = 0.5
MAX_REMOTE_DOCS = 64  # bound what a paid scorer sees per ranking
MAX_DOC_CHARS = 2000

_YEAR_RE = re.compile(r"\b(19|20)\d{2}\b")
_AGO_RE = re.compile(r"(\d+)\s*(minute|hour|day|week|month|year)s?\s+ago", re.I)
_AGO_DAYS = {"minute": 1 / 1440, "hour": 1 / 24, "day": 1, "week": 7, "month": 30, "year": 365}


def hostname_of(url: str) -> str:
    """Return the lowercase hostname of ``url`` without ``www.`` ("" when unparsable).

    Args:
        url: Any URL.

    Returns:
        The hostname.
    """
    host = hostname(url)
    return host[4:] if host.startswith("www.") else host


def host_matches(host: str, patterns: Iterable[str]) -> bool:
    """Tell whether ``host`` is one of ``patterns`` or a subdomain of one.

    ``en.wikipedia.org`` matches ``wikipedia.org``; ``notwikipedia.org`` does not.

    Args:
        host: A hostname.
        patterns: Hostnames (a URL or a leading ``*.`` is tolerated).

    Returns:
        True on a match.
    """
    host = host.lower().rstrip(".")
    for raw in patterns:
        pat = raw.strip().lower()
        if "://" in pat:
            pat = hostname_of(pat)
        pat = pat.removeprefix("*.").removeprefix("www.").strip("./")
        if pat and (host == pat or host.endswith("." + pat)):
            return True
    return False


def _url_key(url: str) -> str:
    return normalize_url(url).rstrip("/")


def _path_key(url: str) -> str:
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return ""
    first = parts.path.strip("/").split("/", 1)[0]
    return f"{hostname_of(url)}/{first}"


def freshness(date: str | None, *, now: datetime | None = None) -> float:
    """Score how recent a date is: 1.0 for today, 0.5 a year ago, 0.0 when unknown.

    Args:
        date: An ISO date, a date with a year in it, or ``"3 days ago"``.
        now: The reference time (defaults to now, UTC).

    Returns:
        A freshness in [0, 1].
    """
    if not date:
        return 0.0
    now = now or datetime.now(UTC)
    age_days: float | None = None
    m = _AGO_RE.search(date)
    if m:
        age_days = int(m.group(1)) * _AGO_DAYS[m.group(2).lower()]
    else:
        try:
            parsed = datetime.fromisoformat(date.strip().replace("Z", "+00:00")[:25])
            if parsed.tzinfo is None:
                parsed = parsed.replace(tzinfo=UTC)
            age_days = (now - parsed).total_seconds() / 86_400
        except ValueError:
            y = _YEAR_RE.search(date)
            if y:
                age_days = (now.year - int(y.group(0))) * 365 + 182
    if age_days is None:
        return 0.0
    return 1.0 / (1.0 + max(age_days, 0.0) / 365)


def _title_match(question_tokens: set[str], title: str) -> float:
    """Share of the name a title gives (qualifier and site name aside) found in the question."""
    toks = set(tokenize(heading_name(title)))
    if not toks or not question_tokens:
        return 0.0
    return len(toks & question_tokens) / len(toks)


async def rank_candidates(
    question: str,
    candidates: dict[str, Candidate],
    relevance: Relevance,
    *,
    boost_hostnames: Iterable[str] = (),
    bad_hostnames: Iterable[str] = (),
    only_hostnames: Iterable[str] = (),
    exclude: set[str] | None = None,
    limit: int | None = None,
    per_host: int = 2,
) -> tuple[list[Candidate], int]:
    """Rank unread candidates for ``question``, best first.

    Drops bad hosts, hosts outside ``only_hostnames`` (when given) and excluded
    URLs (already read or failed). Results of one host past ``per_host`` are pushed
    down the ranking when other hosts have results too, never dropped: on a
    single-site provider every result stays readable.

    Args:
        question: The question being researched.
        candidates: Candidates by URL.
        relevance: Scores title and snippet against the question.
        boost_hostnames: Hosts to prefer (subdomains included).
        bad_hostnames: Hosts never to read.
        only_hostnames: When non-empty, the only hosts to read.
        exclude: URLs not to return (read or failed already).
        limit: How many candidates to return at most (all when None).
        per_host: How many results of one host rank on their own merit.

    Returns:
        Copies of the kept candidates with ``score`` and ``relevance`` set, best
        first, and the provider tokens the relevance scoring spent.
    """
    boost, bad, only = list(boost_hostnames), list(bad_hostnames), list(only_hostnames)
    excluded = {_url_key(u) for u in exclude or ()}
    pool: list[tuple[str, Candidate, str]] = []
    for key, cand in candidates.items():
        url = cand.get("url") or key
        host = hostname_of(url)
        if not host or _url_key(url) in excluded or _url_key(key) in excluded:
            continue
        if host_matches(host, bad) or (only and not host_matches(host, only)):
            continue
        pool.append((url, cand, host))
    if not pool or (limit is not None and limit <= 0):
        return [], 0

    hits_of = [max(int(c.get("hits") or 1), 1) for _, c, _ in pool]
    searched = [i for i, (_, c, _) in enumerate(pool) if not c.get("weak")]
    host_freq = Counter(pool[i][2] for i in searched)
    path_freq = Counter(_path_key(pool[i][0]) for i in searched)
    max_host = max(host_freq.values(), default=1)
    max_path = max(path_freq.values(), default=1)
    max_hits = max((hits_of[i] for i in searched), default=1)
    max_engine = max((float(c.get("engine") or 0.0) for _, c, _ in pool), default=0.0)
    q_tokens = set(tokenize(question))
    docs = [_doc(c, url) for url, c, _ in pool]
    rel, tokens = await _relevance(question, docs, relevance)
    title = [_title_match(q_tokens, c.get("title") or "") for _, c, _ in pool]
    base = [W_RELEVANCE * r + W_TITLE * t for r, t in zip(rel, title, strict=True)]
    bridge = _feedback(q_tokens, docs, base)

    scored: list[tuple[float, int, str, Candidate, str]] = []
    for i, (url, cand, host) in enumerate(pool):
        score = base[i] + W_FEEDBACK * bridge[i]
        if cand.get("weak"):
            # A link: its own text is all the evidence there is.
            score *= WEAK_FACTOR
        else:
            score += (
                W_HITS * (math.log1p(hits_of[i]) / math.log1p(max_hits))
                + W_HOST * (host_freq[host] - 1) / max(max_host - 1, 1)
                + W_PATH * (path_freq[_path_key(url)] - 1) / max(max_path - 1, 1)
                + W_FRESH * freshness(cand.get("date"))
            )
            if max_engine > 0:
                score += W_ENGINE * float(cand.get("engine") or 0.0) / max_engine
        if boost and host_matches(host, boost):
            score += BOOST
        scored.append((score, i, url, cand, host))
    scored.sort(key=lambda t: (-t[0], t[1]))
    if len({host for _, _, host in pool}) > 1:
        scored = _spread_hosts(scored, per_host)

    ranked: list[Candidate] = []
    for score, i, url, cand, _ in scored[:limit]:
        out = cand.copy()
        out["url"] = url
        out["score"] = round(score, 6)
        out["relevance"] = round(rel[i], 6)
        ranked.append(out)
    return ranked, tokens


def _spread_hosts(
    scored: list[tuple[float, int, str, Candidate, str]], per_host: int
) -> list[tuple[float, int, str, Candidate, str]]:
    """Push each host's results past the first ``per_host`` down the ranking (best first in)."""
    seen: Counter[str] = Counter()
    spread = []
    for score, i, url, cand, host in scored:
        seen[host] += 1
        if seen[host] > per_host:
            score *= HOST_OVERFLOW_FACTOR
        spread.append((score, i, url, cand, host))
    spread.sort(key=lambda t: (-t[0], t[1]))
    return spread


def _feedback(q_tokens: set[str], docs: list[str], base: list[float]) -> list[float]:
    """Score documents against the names in the best ones (pseudo-relevance feedback).

    A multi-hop question names one entity; the page about the next hop is named
    in the snippets of the best results, not in the question.
    """
    if W_FEEDBACK <= 0 or not docs:
        return [0.0] * len(docs)
    top = heapq.nlargest(FEEDBACK_TOP, range(len(docs)), key=base.__getitem__)
    names = name_terms([docs[i] for i in top if base[i] > 0], q_tokens)
    if not names:
        return [0.0] * len(docs)
    return LexicalIndex(docs).scores_for(names)


def _doc(cand: Candidate, url: str) -> str:
    """The text a candidate is judged on: title and snippet; a link's anchor text and URL words."""
    title = cand.get("title") or ""
    snippet = cand.get("snippet") or ""
    if cand.get("weak"):
        snippet = f"{snippet} {url_words(url)}".strip()
    return f"{title}\n{snippet}".strip()[:MAX_DOC_CHARS]


def url_words(url: str) -> str:
    """Return the words of a URL's path (``/wiki/Henrik_Ibsen`` -> ``wiki Henrik Ibsen``)."""
    try:
        path = unquote(urlsplit(url).path)
    except ValueError:
        return ""
    return " ".join(re.split(r"[/_\-.+~%]+", path)).strip()


async def _relevance(
    question: str, docs: list[str], relevance: Relevance
) -> tuple[list[float], int]:
    if relevance.name == "local" or len(docs) <= MAX_REMOTE_DOCS:
        try:
            scores, tokens = await relevance.score(question, docs)
        except Exception:  # ranking must never fail a run: lexical is good enough
            return lexical_scores(question, docs), 0
        if len(scores) != len(docs):
            return lexical_scores(question, docs), tokens
        return [min(max(float(s), 0.0), 1.0) for s in scores], tokens
    lexical = lexical_scores(question, docs)
    order = sorted(range(len(docs)), key=lambda i: -lexical[i])[:MAX_REMOTE_DOCS]
    try:
        remote, tokens = await relevance.score(question, [docs[i] for i in order])
    except Exception:
        return lexical, 0
    if len(remote) != len(order):
        return lexical, tokens
    scores = [0.5 * s for s in lexical]
    for i, s in zip(order, remote, strict=True):
        scores[i] = 0.5 + 0.5 * min(max(float(s), 0.0), 1.0)
    return scores, tokens
