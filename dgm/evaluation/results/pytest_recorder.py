"""The grader's pytest plugin: records every test's outcome by its exact node id.

This file is data for dgm, never imported by it: the `pytest` results format writes it, with the
constants below filled in, to a random module name in the grader's scratch directory (outside the
workspace) and loads it with `-p`. It runs inside the test process under whatever Python and
pytest the task's image has (pytest >= 3.6, Python >= 3.6), so it uses only the standard library
and no newer syntax.

- Plugin auto-loading is switched off for grading (PYTEST_DISABLE_PLUGIN_AUTOLOAD=1). In its place
  this plugin loads the `pytest11` entry points of distributions installed *outside* the
  workspace (the image's own plugins keep working; package metadata an agent drops into the
  workspace loads nothing).
- Node ids come from collection (`report.nodeid`, what `pytest -rA` prints), so a test a class
  inherits from a mixin in another file is named after the module that collected it.
- The report is written once, at the end of the session, to a temporary name and then renamed:
  a run that never gets there (os._exit, a crash) leaves no report, and the task fails.
- The environment variables that configured this run are removed once pytest is configured (not
  at import: pytest reads PYTEST_DISABLE_PLUGIN_AUTOLOAD right after loading `-p` plugins), so pytest runs that
  tests start in subprocesses (pytester) behave as they would without the grader.
- Runner configuration files the agent's diff changed (setup.cfg, pyproject.toml, ...) were put
  back to their starting version before pytest started, so pytest's ini file, rootdir and options
  are the task's own. This plugin is imported right after pytest has read them and moves the
  agent's versions back in place, so the code under test sees the fix as written.
"""

import json
import os

REPORT = "@REPORT@"          # filled in by the grader
WORKDIR = "@WORKDIR@"
GRADER_ENV = "@GRADER_ENV@"  # JSON list of variable names to remove at start-up
PINNED = "@PINNED@"          # NUL list of workspace paths pinned for start-up; agent's copies in PINNED-agent/<n>



def _restore_pinned():
    try:
        with open(PINNED, "rb") as listing:
            paths = [p for p in listing.read().split(b"\0") if p]
    except (IOError, OSError):
        return
    os.unlink(PINNED)
    for number, rel in enumerate(paths, 1):
        target = os.path.join(os.fsencode(WORKDIR), rel)
        if os.path.lexists(target):
            os.unlink(target)
        saved = os.fsencode(PINNED + "-agent/" + str(number))
        if os.path.lexists(saved):
            parent = os.path.dirname(target)
            if not os.path.isdir(parent):
                os.makedirs(parent)
            os.rename(saved, target)


_restore_pinned()

_outcomes = {}
_collected = []
_SEVERITY = ("passed", "xfailed", "xpassed", "skipped", "not_run", "failed", "error")


def _record(nodeid, outcome):
    previous = _outcomes.get(nodeid)
    if previous is None or _SEVERITY.index(outcome) > _SEVERITY.index(previous):
        _outcomes[nodeid] = outcome


def _inside(path, root):
    path, root = os.path.realpath(path), os.path.realpath(root)
    return path == root or path.startswith(root.rstrip(os.sep) + os.sep)


def _distributions():
    try:
        from importlib import metadata
    except ImportError:  # Python < 3.8
        try:
            import importlib_metadata as metadata
        except ImportError:
            return []
    return metadata.distributions()


def pytest_addoption(parser, pluginmanager):
    """Load the trusted plugins auto-loading would have loaded (runs as soon as this plugin registers)."""
    for dist in _distributions():
        try:
            where = str(dist.locate_file(""))
        except Exception:
            continue
        if _inside(where, WORKDIR):
            continue
        for entry in getattr(dist, "entry_points", ()):
            if entry.group != "pytest11" or pluginmanager.is_blocked(entry.name):
                continue
            if pluginmanager.get_plugin(entry.name) is not None:
                continue
            pluginmanager.register(entry.load(), name=entry.name)


def pytest_configure(config):
    for name in json.loads(GRADER_ENV):
        os.environ.pop(name, None)


def pytest_collectreport(report):
    if report.failed:
        _record(report.nodeid, "error")
    elif report.skipped:                     # a module that skips itself while being collected
        _record(report.nodeid, "skipped")


def pytest_collection_finish(session):
    _collected.extend(item.nodeid for item in session.items)


def pytest_runtest_logreport(report):
    xfail = hasattr(report, "wasxfail")
    if report.when == "call":
        if report.passed:
            _record(report.nodeid, "xpassed" if xfail else "passed")
        elif report.skipped:
            _record(report.nodeid, "xfailed" if xfail else "skipped")
        else:
            _record(report.nodeid, "failed")
    elif report.failed:                      # setup or teardown
        _record(report.nodeid, "error")
    elif report.skipped:                     # skipped (or xfail run=False) in setup
        _record(report.nodeid, "xfailed" if xfail else "skipped")


def pytest_sessionfinish(session, exitstatus):
    for nodeid in _collected:
        if nodeid not in _outcomes:
            _outcomes[nodeid] = "not_run"
    data = json.dumps({"format": "dgm-pytest/1", "exitstatus": int(exitstatus), "tests": _outcomes})
    tmp = REPORT + ".tmp"
    with open(tmp, "w") as out:
        out.write(data)
    os.rename(tmp, REPORT)
