"""The agent's tools: plain functions (methods) with their JSON schemas beside them.

A tool returns the text the model sees. A `ToolError` is a mistake the model can fix (bad path,
ambiguous match); the loop sends its message back as the tool result. Adding a tool means adding
a method, a schema in `SCHEMAS` and a line in `Tools.call`.
"""

from __future__ import annotations

import os
import signal
import subprocess
import tempfile
import threading
from pathlib import Path


class ToolError(Exception):
    """The model asked for something impossible; the message tells it what to do instead."""


def cap(text: str, limit: int) -> str:
    """Keep the head and the tail of a long text: errors tend to be at the end, context at the start."""
    if len(text) <= limit:
        return text
    half = limit // 2
    return f"{text[:half]}\n[... {len(text) - 2 * half} characters omitted ...]\n{text[-half:]}"


class _OutputReader(threading.Thread):
    """Drains a pipe, keeping only a bounded head and tail, so a flood of output cannot fill memory."""

    def __init__(self, stream, limit: int) -> None:
        super().__init__(daemon=True)
        self.stream, self.limit = stream, limit
        self.head, self.tail, self.total = b"", b"", 0

    def run(self) -> None:
        half = self.limit // 2
        for chunk in iter(lambda: self.stream.read1(65536), b""):
            self.total += len(chunk)
            if len(self.head) < half:
                take = half - len(self.head)
                self.head, chunk = self.head + chunk[:take], chunk[take:]
            self.tail = (self.tail + chunk)[-half:]

    def text(self) -> str:
        kept = len(self.head) + len(self.tail)
        gap = f"\n[... {self.total - kept} bytes omitted ...]\n" if self.total > kept else ""
        return self.head.decode("utf-8", "replace") + gap + self.tail.decode("utf-8", "replace")


class Shell:
    """Runs each command in a fresh `bash`, carrying the working directory and exported variables.

    Why not one long-lived shell: a timed-out command must be killed with its whole process group,
    and a fresh process per command makes that clean. After each command an EXIT trap saves `pwd`
    and `env -0`; the next command starts from them.
    """

    _SKIP = {"PWD", "OLDPWD", "SHLVL", "_"}

    def __init__(self, cwd: str, timeout: float, output_limit: int) -> None:
        self.cwd, self.timeout, self.output_limit = cwd, timeout, output_limit
        self.env = dict(os.environ)

    def run(self, command: str, timeout: float | None = None) -> str:
        timeout = self.timeout if timeout is None else timeout
        with tempfile.TemporaryDirectory(prefix="agent-shell-") as state:
            trap = f"trap 'pwd > {state}/cwd; env -0 > {state}/env' EXIT\n"
            proc = subprocess.Popen(["bash", "-c", trap + command], cwd=self.cwd, env=self.env,
                                    stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                    stderr=subprocess.STDOUT, start_new_session=True)
            reader = _OutputReader(proc.stdout, self.output_limit)
            reader.start()
            try:
                code = proc.wait(timeout=timeout)
                timed_out = False
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                code, timed_out = proc.wait(), True
            reader.join(timeout=1.0)  # a background job may hold the pipe open; don't wait for it
            self._load_state(Path(state))
        output = reader.text()
        if timed_out:
            return f"{output}\n[command timed out after {timeout:g} s and was killed]"
        return f"{output}\n[exit code {code}]" if code else output or "[no output]"

    def _load_state(self, state: Path) -> None:
        try:
            cwd = (state / "cwd").read_text().strip()
            env_items = (state / "env").read_bytes().split(b"\0")
        except OSError:
            return  # killed before the trap ran: keep the previous state
        env = {}
        for item in env_items:
            key, sep, value = item.decode("utf-8", "replace").partition("=")
            if sep and key not in self._SKIP:
                env[key] = value
        if os.path.isdir(cwd):
            self.cwd = cwd
        self.env = env


class Editor:
    """View, create and edit text files; every change can be undone, newest first."""

    def __init__(self, root: str, view_limit: int) -> None:
        self.root, self.view_limit = Path(root), view_limit
        self.history: dict[Path, list[str | None]] = {}

    def path(self, path: str) -> Path:
        return self.root / path  # an absolute `path` replaces the root

    def view(self, path: str, view_range: list[int] | None = None) -> str:
        p = self.path(path)
        if p.is_dir():
            return self._list(p)
        lines = self._read(p).splitlines()
        start, end = 1, len(lines)
        if view_range:
            if len(view_range) != 2:
                raise ToolError("view_range must be [start, end] (1-based, inclusive; end -1 means to the end)")
            start, end = view_range
            if not 1 <= start <= max(len(lines), 1):
                raise ToolError(f"start line {start} is outside the file ({len(lines)} lines)")
            end = len(lines) if end == -1 or end > len(lines) else end
            if end < start:
                raise ToolError(f"end line {end} is before start line {start}")
        if not lines:
            return f"{p} is empty"
        numbered = "\n".join(f"{n:6}\t{lines[n - 1]}" for n in range(start, end + 1))
        if len(numbered) > self.view_limit:
            numbered = cap(numbered, self.view_limit) + "\n[file is long: use view_range to see the middle]"
        return numbered

    def _list(self, directory: Path) -> str:
        entries = []
        for dirpath, dirnames, filenames in os.walk(directory):
            dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
            depth = len(Path(dirpath).relative_to(directory).parts)
            if depth >= 2:
                dirnames[:] = []
            for name in dirnames:
                entries.append(str(Path(dirpath, name).relative_to(directory)) + "/")
            for name in sorted(f for f in filenames if not f.startswith(".")):
                entries.append(str(Path(dirpath, name).relative_to(directory)))
        listing = "\n".join(sorted(entries)) or "(empty directory)"
        return cap(f"Files in {directory} (two levels, hidden files left out):\n{listing}", self.view_limit)

    def create(self, path: str, file_text: str) -> str:
        p = self.path(path)
        if p.is_dir():
            raise ToolError(f"{p} is a directory")
        old = self._read(p) if p.exists() else None
        p.parent.mkdir(parents=True, exist_ok=True)
        self._write(p, file_text, old)
        return f"{'Overwrote' if old is not None else 'Created'} {p} ({len(file_text.splitlines())} lines)"

    def str_replace(self, path: str, old_str: str, new_str: str = "") -> str:
        p = self.path(path)
        text = self._read(p)
        count = text.count(old_str) if old_str else 0
        if count == 0:
            raise ToolError(f"old_str was not found in {p}; view the file and copy the text exactly")
        if count > 1:
            lines = [text[:i].count("\n") + 1 for i in self._find_all(text, old_str)]
            raise ToolError(f"old_str occurs {count} times in {p} (lines {lines}); include more context to make it unique")
        self._write(p, text.replace(old_str, new_str, 1), text)
        first = text[:text.index(old_str)].count("\n") + 1
        return f"Edited {p}. New text around the change:\n{self._snippet(p, first, new_str)}"

    def insert(self, path: str, insert_line: int, new_str: str) -> str:
        p = self.path(path)
        text = self._read(p)
        lines = text.splitlines(keepends=True)
        if not 0 <= insert_line <= len(lines):
            raise ToolError(f"insert_line {insert_line} is outside 0..{len(lines)} (0 inserts at the top)")
        if lines and not lines[-1].endswith("\n") and insert_line == len(lines):
            lines[-1] += "\n"
        block = new_str if new_str.endswith("\n") else new_str + "\n"
        self._write(p, "".join(lines[:insert_line]) + block + "".join(lines[insert_line:]), text)
        return f"Inserted after line {insert_line} of {p}:\n{self._snippet(p, insert_line + 1, new_str)}"

    def undo_edit(self, path: str) -> str:
        p = self.path(path)
        if not self.history.get(p):
            raise ToolError(f"no edit of {p} to undo")
        previous = self.history[p].pop()
        if previous is None:
            p.unlink()
            return f"Undid the creation of {p} (file removed)"
        p.write_text(previous, encoding="utf-8", newline="")
        return f"Undid the last edit of {p}"

    def _read(self, p: Path) -> str:
        if not p.is_file():
            raise ToolError(f"{p} does not exist (use the create command to make a new file)")
        try:
            with open(p, encoding="utf-8", newline="") as f:
                return f.read()
        except UnicodeDecodeError:
            raise ToolError(f"{p} is not a UTF-8 text file; inspect it with bash") from None

    def _write(self, p: Path, text: str, old: str | None) -> None:
        p.write_text(text, encoding="utf-8", newline="")
        self.history.setdefault(p, []).append(old)

    def _snippet(self, p: Path, line: int, new_str: str, context: int = 3) -> str:
        last = line + new_str.count("\n") + context
        return self.view(str(p), [max(1, line - context), last])

    @staticmethod
    def _find_all(text: str, sub: str) -> list[int]:
        found, i = [], text.find(sub)
        while i != -1:
            found.append(i)
            i = text.find(sub, i + 1)
        return found


class Tools:
    """The tool set of one run: a shell and an editor rooted at the workspace."""

    def __init__(self, workspace: str, command_timeout: float, output_limit: int) -> None:
        self.shell = Shell(workspace, command_timeout, output_limit)
        self.editor = Editor(workspace, output_limit)

    def call(self, name: str, args: dict, time_left: float | None = None) -> str:
        """Run one tool call; wrong argument names raise TypeError, which the loop reports back."""
        args = {key: value for key, value in args.items() if value is not None}  # some models send nulls
        if name == "bash":
            timeout = self.shell.timeout if time_left is None else max(1.0, min(self.shell.timeout, time_left))
            return self.shell.run(**args, timeout=timeout)
        if name == "editor":
            command = args.pop("command", None)
            if command not in EDITOR_COMMANDS:
                raise ToolError(f"editor command must be one of {', '.join(EDITOR_COMMANDS)}, got {command!r}")
            return getattr(self.editor, command)(**args)
        raise ToolError(f"unknown tool {name!r}; the tools are: {', '.join(s['function']['name'] for s in SCHEMAS)}")


EDITOR_COMMANDS = ("view", "create", "str_replace", "insert", "undo_edit")

SCHEMAS = [
    {"type": "function", "function": {
        "name": "bash",
        "description": (
            "Run a bash command in the workspace. The working directory and exported variables carry "
            "over to the next call; each command has a time limit and long output keeps its head and tail. "
            "stdin is closed: commands must not wait for input."),
        "parameters": {"type": "object", "properties": {
            "command": {"type": "string", "description": "the bash command(s) to run"},
        }, "required": ["command"]},
    }},
    {"type": "function", "function": {
        "name": "editor",
        "description": (
            "View and edit files. Paths are relative to the workspace or absolute. "
            "view: a file with line numbers (optionally a view_range) or a directory listing; "
            "create: write file_text to a new or existing file; "
            "str_replace: replace old_str, which must occur exactly once, with new_str; "
            "insert: insert new_str after line insert_line (0 = at the top); "
            "undo_edit: revert the last change to a file."),
        "parameters": {"type": "object", "properties": {
            "command": {"type": "string", "enum": list(EDITOR_COMMANDS)},
            "path": {"type": "string"},
            "view_range": {"type": "array", "items": {"type": "integer"},
                           "description": "view: [start, end], 1-based and inclusive; end -1 = to the end"},
            "file_text": {"type": "string", "description": "create: the whole content"},
            "old_str": {"type": "string", "description": "str_replace: exact text to replace"},
            "new_str": {"type": "string", "description": "str_replace / insert: the new text"},
            "insert_line": {"type": "integer", "description": "insert: line after which to insert"},
        }, "required": ["command", "path"]},
    }},
]
