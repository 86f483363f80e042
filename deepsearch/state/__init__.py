"""The typed state of a DeepSearch run: the research loop's and the team's.

:mod:`.research` holds the loop's state and the records it keeps (knowledge,
candidates, pages, answers); :mod:`.team` adds the team map-reduce's sub-problems,
worker tasks and reports. The state is the bottom layer: it imports nothing else
of DeepSearch, and every other layer may import it.
"""

from deepsearch.state.research import (
    Action,
    Answer,
    Candidate,
    CheckType,
    Evaluation,
    InputState,
    Knowledge,
    OutputState,
    PageRecord,
    Reference,
    ResearchState,
    Usage,
    WorkerInput,
    merge_dicts,
    merge_max,
    merge_unique,
)
from deepsearch.state.team import (
    SubProblem,
    TeamState,
    WorkerOutput,
    WorkerReport,
    WorkerStatus,
    WorkerTask,
)

__all__ = [
    "Action",
    "Answer",
    "Candidate",
    "CheckType",
    "Evaluation",
    "InputState",
    "Knowledge",
    "OutputState",
    "PageRecord",
    "Reference",
    "ResearchState",
    "SubProblem",
    "TeamState",
    "Usage",
    "WorkerInput",
    "WorkerOutput",
    "WorkerReport",
    "WorkerStatus",
    "WorkerTask",
    "merge_dicts",
    "merge_max",
    "merge_unique",
]
