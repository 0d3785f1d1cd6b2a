"""The seed agent's tools, run on the host: the commands here are the test's own, not a model's."""

from __future__ import annotations

import os
import signal
import sys
import time
from pathlib import Path

import pytest

AGENT_DIR = Path(__file__).resolve().parents[1] / "agents" / "seed_agent"
sys.path.insert(0, str(AGENT_DIR))
sys.dont_write_bytecode = True  # no __pycache__ in the agent source that gets copied into sandboxes
import tools  # noqa: E402  (the agent is stdlib code outside the package, imported by path)
from tools import ToolError  # noqa: E402

sys.dont_write_bytecode = False


@pytest.fixture
def ws(tmp_path: Path) -> Path:
    (tmp_path / "a.txt").write_text("one\ntwo\nthree\n")
    return tmp_path


@pytest.fixture
def t(ws: Path) -> tools.Tools:
    return tools.Tools(str(ws), command_timeout=10, output_limit=2000)


def editor(t: tools.Tools, **args) -> str:
    return t.call("editor", args)


# --- editor: view ------------------------------------------------------------------------------

def test_view_numbers_every_line(t):
    assert editor(t, command="view", path="a.txt").splitlines() == ["     1\tone", "     2\ttwo", "     3\tthree"]


def test_view_range_at_file_edges(t):
    assert editor(t, command="view", path="a.txt", view_range=[1, 1]) == "     1\tone"
    assert editor(t, command="view", path="a.txt", view_range=[3, 3]) == "     3\tthree"
    assert editor(t, command="view", path="a.txt", view_range=[2, -1]).splitlines()[-1] == "     3\tthree"
    # an end past the last line is read as "to the end"
    assert len(editor(t, command="view", path="a.txt", view_range=[2, 99]).splitlines()) == 2


@pytest.mark.parametrize("bad", [[0, 2], [4, 4], [3, 2], [1]])
def test_view_range_outside_the_file_is_an_error(t, bad):
    with pytest.raises(ToolError):
        editor(t, command="view", path="a.txt", view_range=bad)


def test_view_lists_a_directory_two_levels_without_hidden(t, ws):
    (ws / "pkg" / "sub" / "deep").mkdir(parents=True)
    (ws / "pkg" / "sub" / "deep" / "x.py").write_text("")
    (ws / "pkg" / "m.py").write_text("")
    (ws / ".git").mkdir()
    listing = editor(t, command="view", path=".")
    assert "pkg/m.py" in listing and "pkg/sub/" in listing and "a.txt" in listing
    assert ".git" not in listing and "x.py" not in listing


def test_view_missing_and_binary_files_are_errors(t, ws):
    with pytest.raises(ToolError, match="does not exist"):
        editor(t, command="view", path="nope.py")
    (ws / "b.bin").write_bytes(b"\xff\xfe\x00\x81")
    with pytest.raises(ToolError, match="not a UTF-8"):
        editor(t, command="view", path="b.bin")


# --- editor: create, str_replace, insert, undo ------------------------------------------------

def test_create_makes_parents_and_undo_removes_the_file(t, ws):
    editor(t, command="create", path="new/dir/f.py", file_text="print(1)\n")
    assert (ws / "new/dir/f.py").read_text() == "print(1)\n"
    editor(t, command="undo_edit", path="new/dir/f.py")
    assert not (ws / "new/dir/f.py").exists()


def test_str_replace_unique_match(t, ws):
    out = editor(t, command="str_replace", path="a.txt", old_str="two", new_str="TWO\n2")
    assert (ws / "a.txt").read_text() == "one\nTWO\n2\nthree\n"
    assert "TWO" in out


def test_str_replace_non_unique_match_changes_nothing(t, ws):
    (ws / "d.txt").write_text("x = 1\ny = 2\nx = 1\n")
    with pytest.raises(ToolError, match=r"occurs 2 times .*lines \[1, 3\]"):
        editor(t, command="str_replace", path="d.txt", old_str="x = 1", new_str="x = 0")
    assert (ws / "d.txt").read_text() == "x = 1\ny = 2\nx = 1\n"


def test_str_replace_missing_match_is_an_error(t, ws):
    with pytest.raises(ToolError, match="not found"):
        editor(t, command="str_replace", path="a.txt", old_str="four", new_str="4")
    assert (ws / "a.txt").read_text() == "one\ntwo\nthree\n"


def test_str_replace_keeps_crlf_line_endings(t, ws):
    (ws / "w.txt").write_bytes(b"a\r\nb\r\n")
    editor(t, command="str_replace", path="w.txt", old_str="b", new_str="c")
    assert (ws / "w.txt").read_bytes() == b"a\r\nc\r\n"


@pytest.mark.parametrize("line,expected", [
    (0, "zero\none\ntwo\nthree\n"),
    (2, "one\ntwo\nzero\nthree\n"),
    (3, "one\ntwo\nthree\nzero\n"),
])
def test_insert_at_top_middle_and_end(t, ws, line, expected):
    editor(t, command="insert", path="a.txt", insert_line=line, new_str="zero")
    assert (ws / "a.txt").read_text() == expected


def test_insert_after_last_line_without_newline(t, ws):
    (ws / "n.txt").write_text("a\nb")
    editor(t, command="insert", path="n.txt", insert_line=2, new_str="c")
    assert (ws / "n.txt").read_text() == "a\nb\nc\n"


def test_insert_outside_the_file_is_an_error(t):
    with pytest.raises(ToolError, match="outside 0..3"):
        editor(t, command="insert", path="a.txt", insert_line=4, new_str="x")


def test_undo_reverts_edits_newest_first(t, ws):
    editor(t, command="str_replace", path="a.txt", old_str="one", new_str="1")
    editor(t, command="insert", path="a.txt", insert_line=0, new_str="top")
    editor(t, command="undo_edit", path="a.txt")
    assert (ws / "a.txt").read_text() == "1\ntwo\nthree\n"
    editor(t, command="undo_edit", path="a.txt")
    assert (ws / "a.txt").read_text() == "one\ntwo\nthree\n"
    with pytest.raises(ToolError, match="no edit"):
        editor(t, command="undo_edit", path="a.txt")


def test_create_over_an_existing_file_can_be_undone(t, ws):
    editor(t, command="create", path="a.txt", file_text="new\n")
    editor(t, command="undo_edit", path="a.txt")
    assert (ws / "a.txt").read_text() == "one\ntwo\nthree\n"


def test_bad_editor_calls_are_errors(t):
    with pytest.raises(ToolError, match="must be one of"):
        editor(t, command="delete", path="a.txt")
    with pytest.raises(TypeError):
        editor(t, command="view", path="a.txt", bogus=1)
    with pytest.raises(ToolError, match="unknown tool"):
        t.call("python", {"code": "1"})


# --- bash ---------------------------------------------------------------------------------------

def test_bash_carries_cwd_and_exported_env(t, ws):
    t.call("bash", {"command": "mkdir -p sub && cd sub && export GREETING=hello"})
    out = t.call("bash", {"command": "pwd; echo $GREETING"})
    assert out.split() == [str(ws / "sub"), "hello"]


def test_bash_state_survives_a_failing_command(t, ws):
    out = t.call("bash", {"command": "cd /tmp; exit 3"})
    assert "[exit code 3]" in out
    assert t.call("bash", {"command": "pwd"}).strip() == "/tmp"


def test_bash_reports_exit_code_and_stderr(t):
    out = t.call("bash", {"command": "echo oops >&2; false"})
    assert "oops" in out and "[exit code 1]" in out


def test_bash_timeout_kills_the_whole_process_group(t, ws):
    marker = ws / "survived"
    t.shell.timeout = 1
    out = t.call("bash", {"command": f"(sleep 2; touch {marker}) & sleep 30"})
    assert "timed out after 1 s" in out
    time.sleep(2.5)
    assert not marker.exists(), "the background child outlived the timeout"


def test_bash_timeout_is_bounded_by_the_run_time_left(t):
    out = t.call("bash", {"command": "sleep 30"}, time_left=1)
    assert "timed out after 1 s" in out


def test_bash_output_cap_keeps_head_and_tail(t):
    out = t.call("bash", {"command": "echo FIRST; seq 1 100000; echo LAST"})
    assert out.startswith("FIRST") and out.rstrip().endswith("LAST")
    assert "bytes omitted" in out and len(out) < 2200


def test_bash_background_job_does_not_block(t, ws):
    out = t.call("bash", {"command": "sleep 20 & echo $!"})
    os.kill(int(out.strip()), signal.SIGKILL)  # the pid printed proves the call returned while it ran


def test_cap_keeps_short_text_whole():
    assert tools.cap("short", 100) == "short"
    capped = tools.cap("a" * 50 + "b" * 50, 20)
    assert capped.startswith("a" * 10) and capped.endswith("b" * 10) and "80 characters omitted" in capped
