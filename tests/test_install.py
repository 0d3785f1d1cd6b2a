"""`pip install .` (not editable) gives a working dgm outside the checkout.

The wheel is built from this checkout with the same pip index set-up that scripts/setup.sh uses,
and installed without dependencies into a fresh venv; the dependencies come from the project's
.venv through a path file (so the test is offline and takes seconds, not a litellm install). That
path file adds only the .venv's site-packages directory: its editable `dgm` hook is a .pth file
there, and .pth files in a directory added that way are not run, so `dgm` is the wheel's copy.
"""

from __future__ import annotations

import os
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

from tests.conftest import REPO


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    dist = tmp_path_factory.mktemp("dist")
    subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(dist), str(REPO)],
                   check=True, capture_output=True, timeout=300)
    return next(dist.glob("dgm-*.whl"))


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory, wheel: Path) -> Path:
    """The venv's bin directory, with the built wheel installed."""
    venv = tmp_path_factory.mktemp("install") / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=120)
    python = venv / "bin" / "python"
    subprocess.run([sys.executable, "-m", "pip", "--python", str(python), "install", "-q", "--no-deps",
                    "--no-index", str(wheel)], check=True, capture_output=True, timeout=300)
    purelib = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                             check=True, capture_output=True, text=True).stdout.strip()
    (Path(purelib) / "dgm-test-deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n", encoding="utf-8")
    return venv / "bin"


def _run(bin_dir: Path, args: list[str], cwd: Path, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "LITELLM_LOCAL_MODEL_COST_MAP": "True", "PATH": f"{bin_dir}:{os.environ['PATH']}"}
    env.pop("DGM_MODEL", None)
    return subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)


def test_wheel_carries_every_bundled_file(wheel: Path) -> None:
    from dgm.resources import BUNDLED

    # Every file of agents/, sandbox/ and configs/ in the checkout (whatever recipes exist now).
    expected = {f"dgm/_resources/{p.relative_to(REPO).as_posix()}"
                for name in BUNDLED for p in (REPO / name).rglob("*")
                if p.is_file() and "__pycache__" not in p.parts and p.suffix != ".pyc"}
    assert any(e.startswith("dgm/_resources/sandbox/") for e in expected)
    names = set(zipfile.ZipFile(wheel).namelist())
    assert expected <= names, sorted(expected - names)
    assert "dgm/__main__.py" in names and any(n.startswith("dgm/benchmarks/mini/") for n in names)


def test_installed_package_resolves_its_own_files_with_the_checkout_image_tag(installed: Path, tmp_path: Path) -> None:
    from dgm.sandbox import image

    probe = ("import dgm, dgm.resources as r; from dgm.sandbox import image; "
             "print(dgm.__file__); print(r.seed_agent()); print(image.current_tag()); print(r.in_checkout())")
    done = _run(installed, [str(installed / "python"), "-c", probe], tmp_path)
    assert done.returncode == 0, done.stderr
    module, seed, tag, in_checkout = done.stdout.split()
    assert not module.startswith(str(REPO)) and seed.startswith(str(installed.parent))
    assert (Path(seed) / "main.py").read_bytes() == (REPO / "agents" / "seed_agent" / "main.py").read_bytes()
    assert tag == image.current_tag()  # the installed recipe names the same image as the checkout's
    assert in_checkout == "False"
    for command in (["dgm", "--help"], [str(installed / "python"), "-m", "dgm", "--help"]):
        done = _run(installed, command, tmp_path)
        assert done.returncode == 0 and "demo" in done.stdout, done.stderr


def test_dgm_demo_from_an_empty_directory(installed: Path, tmp_path: Path, docker_ready: None) -> None:
    work = tmp_path / "empty"
    work.mkdir()
    done = _run(installed, ["dgm", "demo", "--quiet"], work, timeout=600)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    runs = list((work / "archive").iterdir())
    assert len(runs) == 1 and runs[0].name.startswith("demo-")
    provenance = (runs[0] / "provenance.json").read_text(encoding="utf-8")
    assert '"framework_commit": null' in provenance
    assert "g2c1" in done.stdout  # the final summary table is still shown
