"""Read pytest's JUnit XML report (xunit1 flavour) into pytest node ids and outcomes.

The report is the grader's machine-readable verdict; stdout is never trusted. The XML comes out of
a sandbox, so it is parsed defensively: bounded size and no DTDs (pytest never writes one, and a
DTD is how entity-expansion attacks on XML parsers start).
"""

from __future__ import annotations

import xml.etree.ElementTree as ET

from dgm.errors import DgmError

MAX_REPORT_BYTES = 32 * 1024 * 1024
OUTCOMES = ("passed", "skipped", "failed", "error")   # in order of severity


class ReportError(DgmError):
    """The test report is missing, too large or not a JUnit XML document."""


def _node_id(case: ET.Element) -> str:
    """pytest's node id from xunit1 attributes: file, dotted classname, name."""
    name = case.get("name", "")
    path = case.get("file") or ""
    classname = case.get("classname", "")
    if not path:
        return classname.replace(".", "/") + ("::" if classname else "") + name
    module = path[:-3].replace("/", ".") if path.endswith(".py") else path.replace("/", ".")
    if not classname:                         # a collection error: the node is the file itself
        return path
    classes = classname[len(module) + 1:].split(".") if classname.startswith(module + ".") else []
    return "::".join([path, *[c for c in classes if c], name])


def _outcome(case: ET.Element) -> str:
    tags = {child.tag for child in case}
    if "error" in tags:
        return "error"
    if "failure" in tags:
        return "failed"
    if "skipped" in tags:
        return "skipped"
    return "passed"


def parse_report(data: bytes) -> dict[str, str]:
    """node id -> passed | failed | error | skipped. A node listed twice keeps its worst outcome
    (pytest reports a test that passed but failed in teardown as two testcases)."""
    if len(data) > MAX_REPORT_BYTES:
        raise ReportError(f"test report is {len(data)} bytes (expected at most {MAX_REPORT_BYTES})")
    if b"<!DOCTYPE" in data or b"<!ENTITY" in data:
        raise ReportError("test report contains a DTD (expected plain JUnit XML as pytest writes it)")
    try:
        root = ET.fromstring(data)
    except ET.ParseError as err:
        raise ReportError(f"test report is not valid XML: {err}") from None
    results: dict[str, str] = {}
    for case in root.iter("testcase"):
        node, outcome = _node_id(case), _outcome(case)
        previous = results.get(node)
        if previous is None or OUTCOMES.index(outcome) > OUTCOMES.index(previous):
            results[node] = outcome
    return results
