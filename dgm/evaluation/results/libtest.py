"""The `libtest_logfile` results format: Rust libtest's `--logfile`, collected at `{report}`.

libtest writes one line per finished test: `ok NAME`, `failed NAME` or `ignored NAME`. The file
is written by the test harness, not from the test's stdout, so text a solution prints cannot add
lines to it. Several test binaries' log files may be concatenated (one `cargo test --test` per
test file); a test listed twice keeps its worst outcome. `listed NAME` lines (the built-in
command adds them from `--list`, which runs no test) name tests that must appear: one the log
lacks is `not_run` (the process ended while it ran, e.g. `std::process::exit(0)` in a test,
which would otherwise leave a log of only the tests that passed before it).

Every reported test belongs to the hidden tests (`selects`): the command runs only the
integration-test targets of the hidden test files (`cargo test --test <stem>`), never the
library's own unit tests.

A Cargo.toml the diff touched is a start-up config (`startup_configs`): cargo builds with its
starting version unless the change only adds or changes registry crates in `[dependencies]`
(`cargo_manifest.harmless_change`). Cargo reads the manifest only to build, so nothing moves the
agent's version back: the starting one stays for the whole run.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from dgm.evaluation.results import cargo_manifest
from dgm.evaluation.results import (FAILED, MAX_REPORT_BYTES, NOT_RUN, PASSED, SKIPPED, Prepared, Produced, ReportError,
                                    RunPaths, fill_report, worst)

if TYPE_CHECKING:
    from dgm.benchmarks.task import Task

_WORDS = {b"ok": PASSED, b"failed": FAILED, b"ignored": SKIPPED}


def parse_logfile(data: bytes) -> dict[str, str]:
    """test name -> passed | failed | skipped | not_run (listed, never finished)."""
    if len(data) > MAX_REPORT_BYTES:
        raise ReportError(f"libtest log file is {len(data)} bytes (expected at most {MAX_REPORT_BYTES})")
    results: dict[str, str] = {}
    listed: set[str] = set()
    for line in data.splitlines():
        word, _, name = line.strip().partition(b" ")
        text = name.strip().decode("utf-8", "replace")
        if word in _WORDS and text:
            worst(results, text, _WORDS[word])
        elif word == b"listed" and text:
            listed.add(text)
    for test in listed - results.keys():
        results[test] = NOT_RUN
    return results


class LibtestLogfileFormat:
    name = "libtest_logfile"
    startup_configs = frozenset({"Cargo.toml"})
    harmless_startup_change = staticmethod(cargo_manifest.harmless_change)

    def prepare(self, test_command: str, paths: RunPaths) -> Prepared:
        if "{report}" not in test_command:
            raise ReportError("the libtest_logfile results format needs {report} in the test command "
                              "(where the --logfile output is collected)")
        return Prepared(fill_report(test_command, paths.report))

    def parse(self, produced: Produced) -> dict[str, str]:
        if produced.report is None:
            raise ReportError(f"no libtest log file was written (exit {produced.exit_code})")
        return parse_logfile(produced.report)

    def selects(self, test_id: str, task: "Task") -> bool:
        return True
