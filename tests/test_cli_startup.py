"""`dgm --help` starts fast: building the parser imports neither litellm nor docker."""

from __future__ import annotations

import subprocess
import sys


def test_parser_imports_neither_docker_nor_litellm():
    code = ("import sys; from dgm.cli import build_parser; build_parser(); "
            "assert 'docker' not in sys.modules and 'litellm' not in sys.modules, "
            "sorted(m for m in sys.modules if m.split('.')[0] in ('docker', 'litellm'))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr


def test_help_lists_the_commands():
    done = subprocess.run([sys.executable, "-m", "dgm.cli", "--help"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0
    assert "doctor" in done.stdout and "sandbox" in done.stdout
