"""SWE-bench instances built here, offline: a repository at /testbed in an image derived from the
sandbox image, as the official instance images have it, plus SWE-bench rows.

Official instance images cannot be pulled here, so each instance image is built with
`docker build --network none` FROM the sandbox image: the repository is committed with git on the
host (fixed identity and dates, so the base commit is the same on every machine), its Python
dependencies are wheels fetched on the host with pip and unpacked into site-packages (the sandbox
image has no pip), and the repository is put on sys.path with a .pth file, the way the official
images install it in develop mode (and `python` names python3, as in the official conda
environments: Django's `tests/runtests.py` starts with `#!/usr/bin/env python`). Images are tagged by a hash of their recipe and reused.

Third-party sources (a Django sdist from PyPI) are downloaded at test time and cached under
`.dgm-cache/` at the repository root, keyed by version; nothing large is committed.
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path
from typing import Callable, Mapping

REPO_ROOT = Path(__file__).resolve().parents[1]
CACHE = REPO_ROOT / ".dgm-cache" / "swebench"
RECIPE_VERSION = "1"      # bump when the image recipe below changes
GIT_ENV = {"GIT_CONFIG_GLOBAL": "/dev/null", "GIT_CONFIG_NOSYSTEM": "1", "HOME": "/tmp",
           "GIT_AUTHOR_NAME": "dev", "GIT_AUTHOR_EMAIL": "dev@example.org", "GIT_COMMITTER_NAME": "dev",
           "GIT_COMMITTER_EMAIL": "dev@example.org", "GIT_AUTHOR_DATE": "2024-01-01T00:00:00Z",
           "GIT_COMMITTER_DATE": "2024-01-01T00:00:00Z", "PATH": "/usr/bin:/bin"}
DOCKERFILE = """FROM {base}
USER root
COPY wheels /tmp/wheels
RUN site=$(python3 -c 'import site; print(site.getsitepackages()[0])') && mkdir -p "$site" \\
 && for w in /tmp/wheels/*.whl; do [ -e "$w" ] && python3 -m zipfile -e "$w" "$site"; done; \\
    rm -rf /tmp/wheels && echo /testbed > "$site/testbed.pth" \
 && ln -sf /usr/bin/python3 /usr/local/bin/python
COPY testbed /testbed
USER agent
"""


def git(cwd: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=cwd, env=GIT_ENV, check=True, capture_output=True, text=True).stdout


def commit_all(root: Path, message: str) -> str:
    """`git init` + commit everything under root; returns the (deterministic) commit id."""
    git(root, "init", "-q")
    git(root, "add", "-A", "-f")
    git(root, "commit", "-q", "--no-verify", "-m", message)
    return git(root, "rev-parse", "HEAD").strip()


def pip_download(spec: str, binary: bool) -> Path:
    """One pinned distribution from PyPI (sdist or wheel), cached under .dgm-cache/swebench/."""
    folder = CACHE / "dist" / spec.replace("==", "-")
    found = sorted(folder.glob("*")) if folder.is_dir() else []
    if found:
        return found[0]
    tmp = Path(tempfile.mkdtemp(prefix="dl-", dir=CACHE.parent if CACHE.parent.is_dir() else None))
    kind = ["--only-binary", ":all:"] if binary else ["--no-binary", ":all:"]
    subprocess.run([sys.executable, "-m", "pip", "download", "-q", "--disable-pip-version-check", "--no-deps",
                    *kind, spec, "-d", str(tmp)], check=True, capture_output=True)
    folder.parent.mkdir(parents=True, exist_ok=True)
    tmp.rename(folder)
    return sorted(folder.glob("*"))[0]


def instance_image(name: str, key: str, make_repo: Callable[[Path], str], wheels: list[Path]) -> tuple[str, str]:
    """(image tag, base commit) for one repository, built once per recipe.

    `key` names the repository's content (e.g. the sdist's version and the edits made to it);
    `make_repo(path)` writes and commits the repository at `path` and returns the commit id.
    """
    import docker

    from dgm.sandbox import image

    base = image.current_tag()
    digest = hashlib.sha256("\0".join([RECIPE_VERSION, base, key, *(w.name for w in wheels),
                                       DOCKERFILE]).encode()).hexdigest()[:12]
    tag = f"dgm-test-swebench-{name}:{digest}"
    commit_file = CACHE / "images" / f"{name}-{digest}.commit"
    client = docker.from_env()
    try:
        client.images.get(tag)
        if commit_file.is_file():
            return tag, commit_file.read_text().strip()
    except docker.errors.ImageNotFound:
        pass
    with tempfile.TemporaryDirectory(prefix=f"dgm-img-{name}-") as tmp:
        context = Path(tmp)
        commit = make_repo(context / "testbed")
        (context / "wheels").mkdir()
        for wheel in wheels:
            shutil.copy(wheel, context / "wheels" / wheel.name)
        (context / "Dockerfile").write_text(DOCKERFILE.format(base=base))
        client.images.build(path=str(context), tag=tag, network_mode="none", rm=True, pull=False)
    commit_file.parent.mkdir(parents=True, exist_ok=True)
    commit_file.write_text(commit)
    return tag, commit


def extract_sdist(sdist: Path, dest: Path) -> None:
    """Unpack a `.tar.gz` sdist so its top folder's contents are `dest`."""
    with tarfile.open(sdist) as tar:
        top = tar.getnames()[0].split("/")[0]
        with tempfile.TemporaryDirectory() as tmp:
            tar.extractall(tmp, filter="data")
            shutil.move(str(Path(tmp) / top), str(dest))


def row(instance_id: str, repo: str, base: str, gold: str, test_patch: str, fail_to_pass: list[str],
        pass_to_pass: list[str], **extra: object) -> Mapping[str, object]:
    return {"instance_id": instance_id, "repo": repo, "base_commit": base, "problem_statement": instance_id,
            "patch": gold, "test_patch": test_patch, "FAIL_TO_PASS": fail_to_pass, "PASS_TO_PASS": pass_to_pass,
            **extra}
