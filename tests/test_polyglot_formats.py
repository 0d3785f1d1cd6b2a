"""The Polyglot runners' results formats, host side: what each report maps to, and what is refused.

Pure and fast: the reports here are written by hand in each runner's format (the Docker tests in
test_polyglot_grading.py read the real runners' output).
"""

from __future__ import annotations

import json

import pytest

from dgm.benchmarks.task import Task
from dgm.evaluation.grader import decide
from dgm.evaluation.results import MAX_REPORT_BYTES, Produced, ReportError, RunPaths, get_format

PATHS = RunPaths(workdir="/work/ws", scratch="/work/.s", report="/work/.s/r/x.report", token="t0")


def _go(*events: dict) -> bytes:
    return b"\n".join(json.dumps(e).encode() for e in events) + b"\n"


def _parse(name: str, report: bytes | None, exit_code: int = 0) -> dict[str, str]:
    return get_format(name).parse(Produced(report=report, output="", exit_code=exit_code))


def test_go_events_give_each_test_and_subtest_its_final_outcome():
    report = b"# example.org/leap [build output]\n" + _go(
        {"Action": "run", "Package": "leap", "Test": "TestLeap"},
        {"Action": "run", "Package": "leap", "Test": "TestLeap/year_2000"},
        {"Action": "output", "Package": "leap", "Test": "TestLeap/year_2000", "Output": "--- PASS: TestLeap/year_2000\n"},
        {"Action": "pass", "Package": "leap", "Test": "TestLeap/year_2000"},
        {"Action": "run", "Package": "leap", "Test": "TestLeap/year_1900"},
        {"Action": "fail", "Package": "leap", "Test": "TestLeap/year_1900"},
        {"Action": "fail", "Package": "leap", "Test": "TestLeap"},
        {"Action": "skip", "Package": "leap", "Test": "TestSkipped"},
        {"Action": "run", "Package": "leap", "Test": "TestCutOff"},      # the binary died in it
        {"Action": "fail", "Package": "leap"},                           # the package, not a test
    ) + b"not json {\n[1, 2]\n"
    assert _parse("go_test_json", report) == {
        "TestLeap": "failed", "TestLeap/year_2000": "passed", "TestLeap/year_1900": "failed",
        "TestSkipped": "skipped", "TestCutOff": "not_run"}


def _marker(code: int, token: str = "t0") -> dict:
    return {"Action": "output", "Package": "leap", "Output": f"dgm-go-main {token} {code}\n"}


def test_go_format_adds_a_testmain_whose_marker_must_end_the_run():
    fmt = get_format("go_test_json")
    prepared = fmt.prepare("go test -json . > {report}", PATHS)
    (source,) = prepared.files.values()
    assert b"func TestMain(m *testing_t0.M)" in source and "zz_dgm_t0_test.go" in prepared.command
    passed = _go({"Action": "run", "Test": "TestA"}, {"Action": "pass", "Test": "TestA"})

    def parse(report: bytes) -> dict[str, str]:
        return fmt.parse(Produced(report=report, output="", exit_code=0))

    assert parse(passed + _go(_marker(0))) == {"TestA": "passed"}
    # Printed "--- PASS" lines of a binary that then exits: no marker, nothing passes.
    with pytest.raises(ReportError, match="did not finish its run"):
        parse(passed)
    with pytest.raises(ReportError, match="did not finish its run"):
        parse(passed + _go(_marker(0, token="guessed")))
    with pytest.raises(ReportError, match="exited 1 although every reported test passed"):
        parse(passed + _go(_marker(1)))
    failed = _go({"Action": "run", "Test": "TestA"}, {"Action": "fail", "Test": "TestA"}, _marker(1))
    assert parse(failed) == {"TestA": "failed"}


def test_go_a_package_that_does_not_build_has_no_tests_and_no_report_is_refused():
    assert _parse("go_test_json", b"./leap.go:3:1: syntax error\nFAIL\texample.org/leap [build failed]\n") == {}
    with pytest.raises(ReportError, match="no go test -json output"):
        _parse("go_test_json", None, exit_code=2)


def test_libtest_a_listed_test_missing_from_the_log_did_not_run():
    report = b"listed zero\nlisted several_digits\nok zero\n"
    assert _parse("libtest_logfile", report) == {"zero": "passed", "several_digits": "not_run"}


def test_libtest_logfile_lines_and_concatenated_files_keep_the_worst_outcome():
    report = (b"ok leap_year_2000\nfailed leap_year_1900\nignored slow_one\n"
              b"garbage line\nok \n"             # no name: not a result
              b"ok leap_year_1900\n")            # a second binary's file lists it again
    assert _parse("libtest_logfile", report) == {
        "leap_year_2000": "passed", "leap_year_1900": "failed", "slow_one": "skipped"}
    with pytest.raises(ReportError, match="no libtest log file"):
        _parse("libtest_logfile", None)


def _jest(*suites: dict) -> bytes:
    return json.dumps({"numFailedTests": 0, "testResults": list(suites)}).encode()


def test_jest_report_ids_are_file_and_full_name_and_a_suite_that_did_not_run_is_an_error():
    report = _jest(
        {"name": "/work/ws/leap.spec.js", "status": "failed", "assertionResults": [
            {"fullName": "Leap year 2000", "title": "year 2000", "status": "passed"},
            {"fullName": "Leap year 1900", "title": "year 1900", "status": "failed"},
            {"fullName": "Leap later", "status": "pending"},
            {"fullName": "Leap odd", "status": "something new"}]},
        {"name": "/work/ws/other.spec.js", "status": "failed", "assertionResults": [],
         "message": "SyntaxError: Unexpected token"})
    assert _parse("jest_json", report) == {
        "leap.spec.js::Leap year 2000": "passed", "leap.spec.js::Leap year 1900": "failed",
        "leap.spec.js::Leap later": "skipped", "leap.spec.js::Leap odd": "failed", "other.spec.js": "error"}


@pytest.mark.parametrize("report, message", [
    (b"{not json", "not JSON"),
    (b'{"numFailedTests": 0}', "no testResults"),
    (b"[]", "no testResults"),
    (None, "no jest report"),
])
def test_jest_reports_that_are_not_jest_s_are_refused(report, message):
    with pytest.raises(ReportError, match=message):
        _parse("jest_json", report)


def test_every_format_refuses_an_oversized_report():
    big = b" " * (MAX_REPORT_BYTES + 1)
    for name in ("go_test_json", "libtest_logfile", "jest_json", "junit"):
        with pytest.raises(ReportError, match="bytes"):
            _parse(name, big)


def test_formats_need_the_report_placeholder():
    for name, command in (("go_test_json", "go test -json . > {report}"),
                          ("libtest_logfile", "cargo test -- --logfile {report}"),
                          ("jest_json", "jest --json --outputFile={report}")):
        fmt = get_format(name)
        assert fmt.prepare(command, PATHS).command.endswith(command.replace("{report}", PATHS.report))
        with pytest.raises(ReportError, match=r"needs \{report\}"):
            fmt.prepare(command.replace("{report}", "out.json"), PATHS)
    with pytest.raises(ReportError, match="unknown junit results option"):
        get_format("junit:some")


JUNIT = b"""<?xml version="1.0" encoding="UTF-8"?>
<testsuites><testsuite name="JUnit Jupiter">
<testcase name="a()" classname="TwoFerTest"/>
<testcase name="b()" classname="TwoFerTest$Nested"><failure message="x"/></testcase>
<testcase name="c()" classname="Helper"/>
</testsuite></testsuites>"""


def test_junit_selects_the_hidden_test_classes_and_nested_ones_and_junit_all_selects_every_test():
    java = Task(id="java/two-fer", problem="p", hidden_tests={"src/test/java/TwoFerTest.java": b""}, results="junit")
    outcomes = _parse("junit", JUNIT)
    resolved, reason = decide(java, get_format("junit"), outcomes)
    assert not resolved and "1/2 hidden tests passed" in reason            # Helper::c() is not hidden
    catch = Task(id="cpp/two-fer", problem="p", hidden_tests={"two_fer_test.cpp": b""}, results="junit:all")
    resolved, reason = decide(catch, get_format("junit:all"), outcomes)
    assert not resolved and "2/3 hidden tests passed" in reason


def test_a_runner_that_reports_nothing_or_only_unrelated_tests_never_resolves():
    js = Task(id="javascript/leap", problem="p", hidden_tests={"leap.spec.js": b""}, results="jest_json")
    fmt = get_format("jest_json")
    assert decide(js, fmt, {}) == (False, "no hidden test ran")
    assert decide(js, fmt, {"mine.spec.js::always": "passed"}) == (False, "no hidden test ran")
    assert decide(js, fmt, {"leap.spec.js::Leap a": "passed", "leap.spec.js::Leap b": "skipped"})[0] is False
    assert decide(js, fmt, {"leap.spec.js::Leap a": "passed"}) == (True, "1/1 hidden tests passed")
    go = Task(id="go/leap", problem="p", hidden_tests={"leap_test.go": b""}, results="go_test_json")
    assert decide(go, get_format("go_test_json"), {"TestLeap": "passed", "TestCut": "not_run"})[0] is False
