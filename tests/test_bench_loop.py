"""The loop benchmark's bookkeeping: every node's time is attributed, steps are counted.

No timing is asserted (shared hosts drift); the test checks that the split the
benchmark prints covers the whole run and names the nodes a run goes through.
"""

from __future__ import annotations

from benchmarks.bench_loop import STEP_NODES, bench_graph, measure_round


async def test_a_round_attributes_every_node_and_excludes_the_brain() -> None:
    graph, model, brain = bench_graph()
    fig = await measure_round(graph, model, brain, 3)

    assert fig.runs == 3
    assert fig.steps == 9  # search, read, answer for each question
    assert set(fig.by_node) == {
        "prepare",
        "plan",
        "search",
        "rank_urls",
        "read",
        "answer",
        "evaluate",
        "finalize",
    }
    assert fig.nodes == 33
    attributed = sum(fig.by_node.values())
    assert 0 < attributed <= fig.total + 1e-6  # brain time excluded from both
    assert fig.total - attributed < fig.total / 2  # only the stream's close is left over
    step_part = fig.step_nodes_ms() * fig.steps / 1000
    run_part = fig.run_nodes_ms() * fig.runs / 1000
    assert abs(step_part + run_part - attributed) < 1e-9
    assert {"plan", "rank_urls"} <= STEP_NODES and "evaluate" not in STEP_NODES
    assert brain.reply.__name__ == "reply"  # the timing wrapper is removed afterwards
