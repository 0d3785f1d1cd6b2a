"""The `pytest` results format: a grader-owned plugin records exact node ids and outcomes.

The plugin (`pytest_recorder.py`, written to a random module name in the grader's scratch
directory) is importable through a user site directory the grader points PYTHONUSERBASE at, so a
test command that sets PYTHONPATH itself still finds it, and it is loaded with `-p` through
PYTEST_ADDOPTS, so it works whether the command runs `pytest`, `python -m pytest` or a script
that calls `pytest.main()`. The same variables switch off plugin auto-loading (the plugin loads
the image's own plugins instead, never ones from the workspace), the cache provider (no state
between runs) and pin `--rootdir` to the workspace. The report is JSON at a random path outside
the workspace; see the recorder's docstring for what it guarantees.
"""

from __future__ import annotations

import json
import shlex
from pathlib import Path
from typing import TYPE_CHECKING

from dgm.evaluation.results import (PINNED_LIST, MAX_REPORT_BYTES, OUTCOMES, Prepared, Produced, ReportError, RunPaths,
                                    fill_report)

from dgm.evaluation.results import pytest_ini

if TYPE_CHECKING:
    from dgm.benchmarks.task import Task

RECORDER = Path(__file__).with_name("pytest_recorder.py")
# Interpreters whose user site directory gets the plugin ($PYTHONUSERBASE/lib/pythonX.Y/site-packages).
PYTHON_VERSIONS = tuple(f"3.{minor}{t}" for minor in range(6, 16) for t in ("", "t"))
_UNUSABLE = {3: "pytest hit an internal error", 4: "pytest was called with bad arguments"}


def plugin_source(report: str, workdir: str, grader_env: list[str], pinned: str) -> bytes:
    text = RECORDER.read_text(encoding="utf-8")
    for key, value in (("@REPORT@", report), ("@WORKDIR@", workdir), ("@GRADER_ENV@", json.dumps(grader_env)),
                       ("@PINNED@", pinned)):
        text = text.replace(f'"{key}"', json.dumps(value), 1)
    return text.encode("utf-8")


class PytestFormat:
    name = "pytest"
    # What pytest reads at start-up to choose its ini file and options: pinned to the starting
    # version while it starts (the grader swaps them; the plugin swaps the agent's back).
    startup_configs = frozenset({"pytest.ini", ".pytest.ini", "pyproject.toml", "tox.ini", "setup.cfg"})
    harmless_startup_change = staticmethod(pytest_ini.harmless_change)   # those are not pinned
    isolate_plugins = True       # tests switch it off to show what plugin auto-loading would let in

    def prepare(self, test_command: str, paths: RunPaths) -> Prepared:
        module = f"dgm_results_{paths.token}"
        userbase = f"{paths.token}-py"
        options = ["-p", module, "-p", "no:cacheprovider", f"--rootdir={paths.workdir}"]
        env = {"PYTHONUSERBASE": f"{paths.scratch}/{userbase}", "PYTEST_ADDOPTS": " ".join(shlex.quote(o) for o in options)}
        if self.isolate_plugins:
            env["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"
        source = plugin_source(paths.report, paths.workdir, sorted(env), f"{paths.scratch}/{PINNED_LIST}")
        files = {f"{userbase}/lib/python{v}/site-packages/{module}.py": source for v in PYTHON_VERSIONS}
        return Prepared(fill_report(test_command, paths.report), files=files, env=env)

    def parse(self, produced: Produced) -> dict[str, str]:
        data = produced.report
        if data is None:
            raise ReportError(f"no test report was written (exit {produced.exit_code}): the test run crashed, "
                              "exited early or did not run pytest")
        if len(data) > MAX_REPORT_BYTES:
            raise ReportError(f"test report is {len(data)} bytes (expected at most {MAX_REPORT_BYTES})")
        try:
            report = json.loads(data)
            tests, status = report["tests"], report["exitstatus"]
        except (ValueError, KeyError, TypeError):
            raise ReportError("test report is not the grader plugin's JSON") from None
        if not isinstance(tests, dict) or not all(isinstance(k, str) and v in OUTCOMES for k, v in tests.items()):
            raise ReportError("test report is not the grader plugin's JSON (bad test outcomes)")
        if status in _UNUSABLE:
            raise ReportError(f"{_UNUSABLE[status]} (exit status {status})")
        return dict(tests)

    def selects(self, test_id: str, task: "Task") -> bool:
        return test_id.split("::", 1)[0] in task.test_paths
