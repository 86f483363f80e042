"""API server benchmark: many concurrent streaming chat completions against a real uvicorn.

The server runs in its own process (``uvicorn``) with the real DeepSearch graph on a
scripted model that answers each call after a fixed delay (a simulated LLM), and
in-memory search and reader. The client opens ``--requests`` streaming completions at
once and prints:

- errors (non-200, error chunks, missing ``[DONE]``; target 0),
- time to first chunk, p50 / p95 / max (target p95 < 1 s),
- latency per request and the server overhead beyond the simulated LLM time
  (LLM calls per run x delay, measured on a warm-up run),
- peak RSS of the server process (target < 1 GB).

Usage: ``.venv/bin/python benchmarks/bench_server.py [--requests 200] [--delay 0.5]``
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def make_app():
    """Build the benchmarked app (uvicorn factory): real graph, delayed scripted model."""
    from deepsearch.server.app import create_app
    from deepsearch.server.config import ServerSettings
    from tests.support.api_server import new_model, scripted_graph

    model = new_model(delay=float(os.environ.get("BENCH_LLM_DELAY", "0.5")))
    app = create_app(graph=scripted_graph(model), server_settings=ServerSettings(_env_file=None))  # type: ignore[call-arg]

    if os.environ.get("BENCH_PROFILE"):
        import cProfile

        profiler = cProfile.Profile()
        profiler.enable()

        @app.get("/bench/profile")
        async def dump_profile() -> dict[str, str]:
            profiler.disable()
            profiler.dump_stats(os.environ["BENCH_PROFILE"])
            return {"written": os.environ["BENCH_PROFILE"]}

    @app.get("/bench/llm-calls")
    async def llm_calls() -> dict[str, int]:
        return {"calls": model.calls}

    return app


@dataclass
class Outcome:
    """What one streamed request saw."""

    ok: bool = False
    first_chunk: float = 0.0
    total: float = 0.0
    error: str = ""
    chunks: int = 0


@dataclass
class Server:
    """The server process under test."""

    port: int
    delay: float
    workers: int
    proc: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        env = {**os.environ, "BENCH_LLM_DELAY": str(self.delay), "LANGSMITH_TRACING": "false"}
        cmd = [
            sys.executable,
            *os.environ.get("BENCH_PYTHON_ARGS", "").split(),  # e.g. "-m cProfile -o out.prof"
            "-m",
            "uvicorn",
            "bench_server:make_app",
            "--factory",
            "--app-dir",
            str(ROOT / "benchmarks"),
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--workers",
            str(self.workers),
            "--log-level",
            "warning",
            "--backlog",
            "4096",
        ]
        self.proc = subprocess.Popen(cmd, env=env, cwd=ROOT)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(self.base + "/health", timeout=1).status_code == 200:
                    return
            except httpx.TransportError:
                time.sleep(0.2)
        raise RuntimeError("the server did not start")

    def pids(self) -> list[int]:
        """The server process and its worker processes."""
        assert self.proc is not None
        children = Path(f"/proc/{self.proc.pid}/task/{self.proc.pid}/children").read_text()
        return [self.proc.pid, *(int(p) for p in children.split())]

    def cpu_seconds(self) -> float:
        """CPU time (user + system) used so far by the server processes."""
        ticks = os.sysconf("SC_CLK_TCK")
        total = 0
        for pid in self.pids():
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])
        return total / ticks

    def peak_rss_mb(self) -> float:
        """Peak RSS (VmHWM) of the server and its worker processes, in MB."""
        assert self.proc is not None
        pids = [self.proc.pid] + [
            int(p)
            for p in Path(f"/proc/{self.proc.pid}/task/{self.proc.pid}/children")
            .read_text()
            .split()
        ]
        total = 0
        for pid in pids:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    total += int(line.split()[1])
        return total / 1024

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.terminate()
            self.proc.wait(timeout=20)


async def stream_one(port: int, question: str) -> Outcome:
    """Send one streaming completion over a raw connection and time it.

    A bare asyncio HTTP/1.1 client keeps the load generator's own cost small (an
    ``httpx`` pool with hundreds of streams costs more CPU than the server under test).
    """
    out = Outcome()
    payload = json.dumps(
        {
            "model": "jina-deepsearch-v1",
            "stream": True,
            "messages": [{"role": "user", "content": question}],
        }
    ).encode()
    request = (
        b"POST /v1/chat/completions HTTP/1.1\r\nHost: bench\r\nContent-Type: application/json\r\n"
        b"Content-Length: %d\r\nConnection: close\r\n\r\n" % len(payload)
    ) + payload
    start = time.perf_counter()
    try:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
    except OSError as exc:
        out.error = f"connect: {exc}"
        return out
    try:
        writer.write(request)
        await writer.drain()
        buffer = b""
        while True:
            data = await reader.read(65536)
            if not data:
                break
            buffer += data
            if not out.first_chunk and b"data: " in buffer:
                out.first_chunk = time.perf_counter() - start
            if b"data: [DONE]" in buffer:
                break
        out.total = time.perf_counter() - start
        out.chunks = buffer.count(b"data: ")
        if not buffer.startswith(b"HTTP/1.1 200"):
            out.error = buffer.split(b"\r\n", 1)[0].decode(errors="replace")
        elif b'"type": "error"' in buffer:
            out.error = "error chunk"
        elif b"data: [DONE]" not in buffer:
            out.error = "no [DONE]"
        out.ok = not out.error
    except OSError as exc:
        out.error = f"{type(exc).__name__}: {exc}"
    finally:
        writer.close()
    return out


def pct(values: list[float], q: float) -> float:
    """Return the q-quantile (0..1) of values."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


async def run(args: argparse.Namespace) -> None:
    from tests.support.servers import free_port

    server = Server(free_port(), args.delay, args.workers)
    server.start()
    try:
        warm = await stream_one(server.port, "Who designed the Statue of Liberty?")
        if not warm.ok:
            raise SystemExit(f"warm-up failed: {warm.error}")
        calls = (
            httpx.get(server.base + "/bench/llm-calls").json()["calls"] if args.workers == 1 else 0
        )
        simulated = calls * args.delay
        questions = ["Who designed the Statue of Liberty?", "When was the Eiffel Tower completed?"]
        cpu_before = server.cpu_seconds()
        started = time.perf_counter()
        outcomes = await asyncio.gather(
            *(stream_one(server.port, questions[i % 2]) for i in range(args.requests))
        )
        wall = time.perf_counter() - started
        cpu = server.cpu_seconds() - cpu_before
        ok = [o for o in outcomes if o.ok]
        errors = [o.error for o in outcomes if not o.ok]
        firsts = [o.first_chunk for o in outcomes if o.chunks]
        totals = [o.total for o in ok]
        print(
            f"requests: {args.requests} concurrent streaming, workers: {args.workers}, "
            f"simulated LLM delay: {args.delay:.2f} s/call"
        )
        print(f"errors: {len(errors)}" + (f" (first: {errors[0]})" if errors else ""))
        print(
            f"time to first chunk: p50 {pct(firsts, 0.5) * 1000:.0f} ms, "
            f"p95 {pct(firsts, 0.95) * 1000:.0f} ms, max {max(firsts) * 1000:.0f} ms, "
            f"min {min(firsts) * 1000:.0f} ms"
        )
        print(
            f"latency: p50 {pct(totals, 0.5):.2f} s, p95 {pct(totals, 0.95):.2f} s, wall {wall:.2f} s, "
            f"throughput {len(ok) / wall:.1f} runs/s"
        )
        if calls:
            overhead = [t - simulated for t in totals]
            print(
                f"simulated LLM time per run: {calls} calls x {args.delay:.2f} s = {simulated:.2f} s "
                f"(warm-up run alone: {warm.total:.2f} s)"
            )
            print(
                f"latency beyond the simulated LLM time (queueing included): "
                f"mean {statistics.mean(overhead):.2f} s, p50 {pct(overhead, 0.5):.2f} s, "
                f"p95 {pct(overhead, 0.95):.2f} s"
            )
        print(
            f"server overhead per request: {cpu / args.requests * 1000:.0f} ms CPU "
            f"(server processes used {cpu:.1f} CPU s for {args.requests} runs in {wall:.1f} s)"
        )
        print(f"peak RSS of the server: {server.peak_rss_mb():.0f} MB")
        if os.environ.get("BENCH_PROFILE"):
            httpx.get(server.base + "/bench/profile", timeout=60)
    finally:
        server.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--delay", type=float, default=0.5, help="simulated LLM seconds per call")
    parser.add_argument("--workers", type=int, default=1)
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
