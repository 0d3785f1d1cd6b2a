"""The sandbox image: its recipe-hashed tag and how it is built.

The tag carries a hash of every file in the recipe directory (`sandbox/` at the repository root),
so editing the recipe names a new image and `dgm sandbox build` rebuilds, while an unchanged
recipe is a fast no-op. The two build methods (Dockerfile, offline debootstrap) are meant to give
equivalent images, hence one tag for both.

`current_tag` is imported by code that must not load the docker SDK (the CLI's start-up, the
config layer), so the SDK is imported inside the functions that talk to the daemon.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from dgm import log, resources
from dgm.errors import DgmError

REPOSITORY = "dgm-sandbox"
# sandbox/ of the checkout, or its copy inside an installed wheel (same files, same hash).
RECIPE_DIR = resources.sandbox_recipe()
PULL_TIMEOUT_SECONDS = 60

Method = Literal["auto", "offline", "dockerfile"]


class ImageBuildError(DgmError):
    """The sandbox image could not be built."""


class ImageMissing(DgmError):
    """The sandbox image a run asks for is not in the local Docker daemon."""


# The language images' recipes (dgm/sandbox/languages.py) live in the recipe directory's
# languages/ folder but are not part of the Python image: editing one rebuilds that language only.
LANGUAGES_SUBDIR = "languages"


def recipe_hash(recipe_dir: Path = RECIPE_DIR, *, prefix: str = "") -> str:
    """12 hex digits over the names, modes and contents of the recipe files, without languages/
    (`prefix` is hashed first: a language image folds in its build script and base image tag)."""
    if not recipe_dir.is_dir():
        raise DgmError(f"sandbox recipe directory not found: {recipe_dir} (expected the repository's sandbox/ folder, or the dgm package's bundled copy)")
    digest = hashlib.sha256(prefix.encode())
    for path in sorted(p for p in recipe_dir.rglob("*") if p.is_file() and not _is_cache(p, recipe_dir)):
        rel = path.relative_to(recipe_dir).as_posix()
        if rel.startswith(LANGUAGES_SUBDIR + "/"):
            continue
        executable = os.access(path, os.X_OK)
        digest.update(f"{rel}\0{int(executable)}\0".encode())
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()[:12]


def _is_cache(path: Path, recipe_dir: Path) -> bool:
    """Python caches are not recipe: a wheel does not carry them, so they must not change the tag."""
    rel = path.relative_to(recipe_dir)
    return "__pycache__" in rel.parts or path.suffix == ".pyc"


def current_tag(recipe_dir: Path = RECIPE_DIR) -> str:
    """The tag the current recipe builds, e.g. `dgm-sandbox:3f2a9c0d1b7e`."""
    return f"{REPOSITORY}:{recipe_hash(recipe_dir)}"


def _client():  # -> docker.DockerClient
    import docker

    try:
        client = docker.from_env()
        client.ping()
    except Exception as exc:
        raise ImageBuildError(f"Docker daemon not reachable ({exc}); start it and retry") from None
    return client


def is_present(tag: str) -> bool:
    import docker.errors

    try:
        _client().images.get(tag)
    except docker.errors.ImageNotFound:
        return False
    return True


def dockerfile_base(recipe_dir: Path = RECIPE_DIR) -> str:
    """The image named by the Dockerfile's FROM line (the only thing the Dockerfile build pulls)."""
    text = (recipe_dir / "Dockerfile").read_text(encoding="utf-8")
    match = re.search(r"^\s*FROM\s+(?:--platform=\S+\s+)?(\S+)", text, re.MULTILINE | re.IGNORECASE)
    if match is None:
        raise ImageBuildError(f"{recipe_dir / 'Dockerfile'}: no FROM line (expected e.g. FROM python:3.11-slim-bookworm)")
    return match.group(1)


def _base_available(base: str) -> bool:
    """True when the Dockerfile's base image is local or a pull succeeds (offline: fails fast)."""
    if is_present(base):
        return True
    try:
        done = subprocess.run(["docker", "pull", base], capture_output=True, timeout=PULL_TIMEOUT_SECONDS)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return done.returncode == 0


def _build_dockerfile(tag: str, recipe_dir: Path) -> None:
    import docker.errors

    try:
        _client().images.build(path=str(recipe_dir), tag=tag, rm=True, pull=False)
    except (docker.errors.BuildError, docker.errors.APIError) as exc:
        raise ImageBuildError(f"Dockerfile build of {tag} failed: {exc}") from None


def _build_offline(tag: str, recipe_dir: Path) -> None:
    if os.geteuid() != 0:
        raise ImageBuildError("the offline image build needs root (debootstrap, chroot); re-run as root or use --dockerfile")
    if shutil.which("debootstrap") is None:
        raise ImageBuildError("the offline image build needs debootstrap (apt-get install -y debootstrap)")
    done = subprocess.run(["bash", str(recipe_dir / "build_offline.sh"), tag], capture_output=True, text=True)
    if done.returncode != 0:
        tail = " | ".join(done.stderr.strip().splitlines()[-3:])
        raise ImageBuildError(f"offline build of {tag} failed (exit {done.returncode}): {tail}")


@dataclass(frozen=True)
class BuildResult:
    tag: str
    method: str     # "dockerfile", "offline" or "cached" (the tag already existed)
    built: bool


def build(method: Method = "auto", *, force: bool = False, recipe_dir: Path = RECIPE_DIR) -> BuildResult:
    """Build the current recipe's image unless its tag exists; `auto` needs no registry offline."""
    tag = current_tag(recipe_dir)
    if not force and is_present(tag):
        return BuildResult(tag, "cached", built=False)
    if method == "auto":
        method = "dockerfile" if _base_available(dockerfile_base(recipe_dir)) else "offline"
    log.get(__name__).info("building sandbox image", tag=tag, method=method)
    if method == "dockerfile":
        _build_dockerfile(tag, recipe_dir)
    else:
        _build_offline(tag, recipe_dir)
    return BuildResult(tag, method, built=True)
