"""The recipe hash behind the image tag, mount refusal and tar packing: no daemon needed."""

from __future__ import annotations

import io
import os
import re
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

from dgm.errors import DgmError
from dgm.sandbox import image, tarpack
from dgm.sandbox.docker_backend import SandboxMountError, check_mount


@pytest.fixture
def recipe(tmp_path: Path) -> Path:
    (tmp_path / "Dockerfile").write_text("FROM python:3.11-slim-bookworm\nRUN true\n")
    script = tmp_path / "build_offline.sh"
    script.write_text("#!/bin/sh\n")
    script.chmod(0o755)
    return tmp_path


def test_tag_changes_with_the_recipe_and_only_then(recipe: Path):
    first = image.current_tag(recipe)
    assert re.fullmatch(r"dgm-sandbox:[0-9a-f]{12}", first)
    assert image.current_tag(recipe) == first
    (recipe / "Dockerfile").write_text("FROM python:3.11-slim-bookworm\nRUN false\n")
    edited = image.current_tag(recipe)
    assert edited != first
    (recipe / "extra.txt").write_text("")
    added = image.current_tag(recipe)
    assert added != edited
    (recipe / "build_offline.sh").chmod(0o644)
    assert image.current_tag(recipe) != added


def test_the_real_recipe_hashes(tmp_path: Path):
    assert image.current_tag() == image.current_tag(image.RECIPE_DIR)
    with pytest.raises(DgmError, match="recipe directory not found"):
        image.current_tag(tmp_path / "nope")


def test_dockerfile_base(recipe: Path):
    assert image.dockerfile_base(recipe) == "python:3.11-slim-bookworm"
    assert image.dockerfile_base() == "python:3.11-slim-bookworm"


def test_current_tag_needs_no_docker_sdk():
    code = "import sys; sys.modules['docker'] = None; from dgm.sandbox import image; print(image.current_tag())"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == image.current_tag()


@pytest.mark.parametrize("host", ["/var/run", "/run", "/var", "/"])
def test_mount_refuses_the_docker_socket(host: str):
    with pytest.raises(SandboxMountError, match="Docker socket"):
        check_mount(Path(host), "/run/dgm-llm")


def test_mount_needs_a_directory_and_an_absolute_target(tmp_path: Path):
    assert check_mount(tmp_path, "/run/dgm-llm") == (tmp_path.resolve(), "/run/dgm-llm")
    with pytest.raises(SandboxMountError, match="not a directory"):
        check_mount(tmp_path / "missing", "/run/dgm-llm")
    with pytest.raises(SandboxMountError, match="absolute"):
        check_mount(tmp_path, "run/dgm-llm")


def test_pack_dir_normalises_owner_and_modes(tmp_path: Path):
    (tmp_path / "private").mkdir(mode=0o700)
    (tmp_path / "private" / "run.sh").write_bytes(b"#!/bin/sh\n")
    (tmp_path / "private" / "run.sh").chmod(0o700)
    (tmp_path / "secret.txt").write_bytes(b"x")
    (tmp_path / "secret.txt").chmod(0o600)
    os.mkfifo(tmp_path / "fifo")
    with tarfile.open(fileobj=io.BytesIO(tarpack.pack_dir(tmp_path, uid=0))) as tar:
        members = {m.name: m for m in tar.getmembers()}
    assert "./fifo" not in members
    assert members["./private"].mode == 0o755 and members["./private/run.sh"].mode == 0o755
    assert members["./secret.txt"].mode == 0o644
    assert {m.uid for m in members.values()} == {0}


def test_unpack_refuses_escaping_paths(tmp_path: Path):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        info = tarfile.TarInfo("../escaped.txt")
        info.size = 1
        tar.addfile(info, io.BytesIO(b"x"))
    with pytest.raises(tarfile.FilterError):
        tarpack.unpack(buf.getvalue(), tmp_path / "dest")
    assert not (tmp_path / "escaped.txt").exists()


def test_wrapper_report_parsing():
    from dgm.sandbox import wrapper

    report = wrapper.parse(b"timeout: sending signal TERM to command 'bash'\ndgm-rc 124\ndgm-oom 3 3\n")
    assert report == wrapper.Report(exit_code=124, timed_out=True, oom_before=3, oom_after=3)
    assert wrapper.parse(b"dgm-rc 137\ndgm-oom 0 1\n") == wrapper.Report(137, False, 0, 1)
    assert wrapper.parse(b"dgm-rc 0\n") is None  # killed before the final counter: no verdict
    argv = wrapper.exec_argv(["python3", "-c", "x"], 0.0001, 1000)
    assert argv[4:] == ["argv", "0.001", "1001", "python3", "-c", "x"]


@pytest.mark.docker
def test_build_is_a_no_op_when_the_tag_exists(docker_ready):
    result = image.build()
    assert result == image.BuildResult(image.current_tag(), "cached", built=False)
    done = subprocess.run([sys.executable, "-m", "dgm.cli", "sandbox", "build"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and done.stdout.strip() == f"{image.current_tag()} already present"
