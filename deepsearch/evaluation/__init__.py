"""The evaluation harness: run DeepSearch over benchmark questions, grade and report.

``deepsearch eval DATASET`` (see :mod:`deepsearch.cli.eval`) ties together
:mod:`datasets <deepsearch.evaluation.datasets>` (load JSONL benchmarks),
:mod:`grading <deepsearch.evaluation.grading>` (LLM judge, exact match, citation
faithfulness), :mod:`runner <deepsearch.evaluation.runner>` (concurrent, resumable runs)
and :mod:`report <deepsearch.evaluation.report>` (JSON, Markdown and PNG reports).
"""
