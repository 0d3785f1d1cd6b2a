"""An agent's trajectories for the page: its self-improvement run and one per evaluated task.

A trajectory is named by what it belongs to (`self_improve` or a task id), never by a path: the
file is found from the store's own rows (`evaluations.artifact_dir`), so no request can point the
server at a file. Everything in it is agent-written text: it is clipped here (a trajectory file
may be 20 MB) and escaped by the page.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from dgm.archive.store import RunStore
from dgm.errors import DgmError

SELF_IMPROVE = "self_improve"
READ_BYTES = 4_000_000     # of a larger file only the start is read (and its final record)
MAX_STEPS = 300
TEXT_CHARS = 4000          # the agent's words per step, a message of the start record
TOOL_CHARS = 2000          # per tool call's arguments and per tool result


def _files(store: RunStore, agent_id: str) -> dict[str, tuple[Path, dict[str, Any]]]:
    """name -> (trajectory file, what the index says about it), for the files that exist."""
    store.agent(agent_id)   # an unknown agent is a DgmError (404), not an empty list
    found: dict[str, tuple[Path, dict[str, Any]]] = {}
    own = store.artifacts.path(agent_id, f"{SELF_IMPROVE}/trajectory.jsonl")
    if own.is_file() and not own.is_symlink():
        found[SELF_IMPROVE] = (own, {"name": SELF_IMPROVE, "label": "self-improvement (the change to its parent)"})
    for e in store.evaluations(agent_id):
        if not e.artifact_dir:
            continue
        path = store.run_dir / e.artifact_dir / "trajectory.jsonl"
        if path.is_file() and not path.is_symlink():
            found[e.task_id] = (path, {"name": e.task_id, "label": f"task {e.task_id} (stage {e.stage + 1}, {e.status})"})
    return found


def index(run_dir: Path, agent_id: str) -> list[dict[str, Any]]:
    """The agent's trajectories: name, label and size in bytes (no path)."""
    with RunStore.open(run_dir, readonly=True) as store:
        files = _files(store, agent_id)
    return [{**info, "bytes": path.stat().st_size} for path, info in files.values()]


def trajectory(run_dir: Path, agent_id: str, name: str) -> dict[str, Any]:
    """One trajectory as steps: the agent's words, its tool calls and the (clipped) results."""
    with RunStore.open(run_dir, readonly=True) as store:
        files = _files(store, agent_id)
    if name not in files:
        raise DgmError(f"agent {agent_id} has no trajectory {name!r}; expected one of: {', '.join(files) or 'none'}")
    path, info = files[name]
    size = path.stat().st_size
    with path.open("rb") as handle:
        head = handle.read(READ_BYTES)
        tail = b""
        if size > READ_BYTES:
            handle.seek(max(size - 65_536, READ_BYTES))
            tail = handle.read()
    lines = head.decode("utf-8", errors="replace").splitlines()
    if size > READ_BYTES:
        lines = lines[:-1] + tail.decode("utf-8", errors="replace").splitlines()[-1:]   # drop the cut line
    out: dict[str, Any] = {**info, "bytes": size, "start": None, "steps": [], "final": None,
                           "cut": size > READ_BYTES}
    for line in lines:
        try:
            record = json.loads(line)
        except ValueError:
            continue
        if not isinstance(record, dict):
            continue
        kind = record.get("type")
        if kind == "start":
            out["start"] = [{"role": str(m.get("role")), "content": clip(m.get("content"), TEXT_CHARS)}
                            for m in record.get("messages") or [] if isinstance(m, dict)]
        elif kind == "step":
            if len(out["steps"]) >= MAX_STEPS:
                out["cut"] = True
                continue
            out["steps"].append(_step(record))
        elif kind == "final":
            out["final"] = {"exit_reason": clip(record.get("exit_reason"), 200), "steps": record.get("steps"),
                            "detail": clip(record.get("detail"), TEXT_CHARS)}
    return out


def _step(record: dict[str, Any]) -> dict[str, Any]:
    response = record.get("response") if isinstance(record.get("response"), dict) else {}
    calls = []
    for call in record.get("tool_calls") or []:
        function = call.get("function") if isinstance(call, dict) and isinstance(call.get("function"), dict) else {}
        calls.append({"name": clip(function.get("name"), 200), "arguments": clip(function.get("arguments"), TOOL_CHARS)})
    results = [{"name": clip(r.get("name"), 200), "output": clip(r.get("output"), TOOL_CHARS)}
               for r in record.get("tool_results") or [] if isinstance(r, dict)]
    return {"step": record.get("step") if isinstance(record.get("step"), int) else None,
            "content": clip(response.get("content"), TEXT_CHARS), "tool_calls": calls, "tool_results": results}


def clip(value: Any, limit: int) -> str:
    """Text of at most about `limit` characters: head and tail kept, the middle counted."""
    text = "" if value is None else value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    if len(text) <= limit:
        return text
    half = limit // 2
    return f"{text[:half]}\n[... {len(text) - limit} characters omitted ...]\n{text[-half:]}"
