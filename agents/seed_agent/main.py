"""The seed coding agent: ask the model, run the tool calls it makes, feed back the results, repeat.

    python3 main.py --problem FILE --workspace DIR --out DIR [--max-steps N] [--max-seconds S] ...

The model is reached only through `llm.chat` (the DGM gateway). The run ends when the model
answers without a tool call (finished), a limit is reached (step_limit, time_limit, budget) or
the model cannot be reached (error). Every step is appended to <out>/trajectory.jsonl as it
happens; the last record is {"type": "final", "exit_reason": ...}. See README.md for the contract.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import traceback
from dataclasses import asdict, dataclass
from pathlib import Path

import llm
from tools import SCHEMAS, ToolError, Tools, cap

PROMPTS = Path(__file__).resolve().parent / "prompts"
SHORTENED_OUTPUT_CHARS = 400  # what the context guard leaves of an old tool output


@dataclass
class Limits:
    max_steps: int = 50               # model calls
    max_seconds: float = 1800.0       # wall time of the whole run
    max_tokens: int = 2_000_000       # prompt + completion tokens over the whole run
    command_timeout: float = 120.0    # one bash command
    output_chars: int = 10_000        # one tool result
    context_chars: int = 400_000      # one request (JSON size of the messages)


class Stop(Exception):
    """Ends the run; `reason` becomes the exit reason of the final record."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(detail or reason)
        self.reason, self.detail = reason, detail


class Trajectory:
    """JSON lines, flushed after every record so that a killed run still leaves its steps behind."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.file = open(path, "w", encoding="utf-8")

    def write(self, record: dict) -> None:
        self.file.write(json.dumps(record, ensure_ascii=False) + "\n")
        self.file.flush()


class Agent:
    def __init__(self, problem: str, workspace: str, out: Path, limits: Limits) -> None:
        self.limits = limits
        self.tools = Tools(workspace, limits.command_timeout, limits.output_chars)
        self.trajectory = Trajectory(out / "trajectory.jsonl")
        task = (PROMPTS / "task.md").read_text(encoding="utf-8")
        task = task.replace("{workspace}", workspace).replace("{problem}", problem)
        self.messages: list[dict] = [
            {"role": "system", "content": (PROMPTS / "system.md").read_text(encoding="utf-8")},
            {"role": "user", "content": task},
        ]
        self.steps = 0
        self.tokens = {"prompt": 0, "completion": 0, "total": 0}
        self.started = time.monotonic()

    def run(self) -> str:
        """Loop until a Stop; write the final record even when the agent itself crashes."""
        self.trajectory.write({"type": "start", "limits": asdict(self.limits), "messages": self.messages})
        try:
            while True:
                self.step()
        except Stop as stop:
            self.finish(stop.reason, stop.detail)
            return stop.reason
        except Exception:
            self.finish("error", "agent crashed:\n" + traceback.format_exc())
            raise

    def step(self) -> None:
        self.check_limits()
        shortened = self.guard_context()
        request = {"messages": len(self.messages), "chars": len(json.dumps(self.messages)), "shortened": shortened}
        try:
            response = llm.chat(self.messages, tools=SCHEMAS)
        except llm.BudgetExceeded as exc:
            raise Stop("budget", str(exc)) from None
        except llm.LLMError as exc:
            raise Stop("error", str(exc)) from None
        self.steps += 1
        usage = response.get("usage") or {}
        self.count_tokens(usage)
        try:
            choice = response["choices"][0]
            message = choice["message"]
        except (KeyError, IndexError, TypeError):
            raise Stop("error", "model response has no message: " + cap(json.dumps(response), 500)) from None
        calls = message.get("tool_calls") or []
        assistant = {"role": "assistant", "content": message.get("content")}
        if calls:
            assistant["tool_calls"] = calls
        self.messages.append(assistant)
        results = [self.execute(call) for call in calls]
        self.trajectory.write({
            "type": "step", "step": self.steps, "request": request,
            "response": {"content": message.get("content"), "finish_reason": choice.get("finish_reason")},
            "tool_calls": calls, "tool_results": results, "usage": usage, "tokens": dict(self.tokens),
            "seconds": round(self.elapsed(), 3),
        })
        print(f"step {self.steps}: {', '.join(r['name'] for r in results) or 'no tool call'}", file=sys.stderr)
        if not calls:
            raise Stop("finished")

    def execute(self, call: dict) -> dict:
        """Run one tool call; whatever goes wrong becomes the tool result, so the model can react."""
        function = call.get("function") or {}
        name, raw = function.get("name", ""), function.get("arguments") or "{}"
        error = True
        try:
            args = json.loads(raw) if isinstance(raw, str) else raw
            if not isinstance(args, dict):
                raise ToolError("the arguments must be a JSON object")
            output = self.tools.call(name, args, time_left=self.limits.max_seconds - self.elapsed())
            error = False
        except json.JSONDecodeError as exc:
            output = f"Error: the arguments are not valid JSON ({exc}); send one JSON object"
        except (ToolError, TypeError) as exc:
            output = f"Error: {exc}"
        except Exception as exc:
            output = f"Error: {type(exc).__name__}: {exc}"
        output = cap(output, self.limits.output_chars)
        self.messages.append({"role": "tool", "tool_call_id": call.get("id", ""), "content": output})
        return {"id": call.get("id", ""), "name": name, "output": output, "error": error}

    def check_limits(self) -> None:
        if self.steps >= self.limits.max_steps:
            raise Stop("step_limit", f"{self.steps} steps taken (limit {self.limits.max_steps})")
        if self.elapsed() >= self.limits.max_seconds:
            raise Stop("time_limit", f"{self.elapsed():.0f} s elapsed (limit {self.limits.max_seconds:g})")
        if self.tokens["total"] >= self.limits.max_tokens:
            raise Stop("budget", f"{self.tokens['total']} tokens used (limit {self.limits.max_tokens})")

    def guard_context(self) -> int:
        """Shorten the oldest tool outputs until the request fits; the newest turn stays whole.

        Returns how many outputs were shortened. If the request still does not fit it is sent
        anyway: the gateway then answers with a context_window error, which ends the run.
        """
        size = len(json.dumps(self.messages))
        roles = [m["role"] for m in self.messages]
        newest_turn = len(roles) - roles[::-1].index("assistant") - 1 if "assistant" in roles else len(roles)
        shortened = 0
        for message in self.messages[:newest_turn]:
            if size <= self.limits.context_chars:
                break
            content = message.get("content") or ""
            if message["role"] == "tool" and len(content) > SHORTENED_OUTPUT_CHARS + 100:
                message["content"] = cap(content, SHORTENED_OUTPUT_CHARS) + "\n[old output shortened to fit the context]"
                size = len(json.dumps(self.messages))
                shortened += 1
        return shortened

    def count_tokens(self, usage: dict) -> None:
        prompt, completion = usage.get("prompt_tokens") or 0, usage.get("completion_tokens") or 0
        self.tokens["prompt"] += prompt
        self.tokens["completion"] += completion
        self.tokens["total"] += usage.get("total_tokens") or prompt + completion

    def elapsed(self) -> float:
        return time.monotonic() - self.started

    def finish(self, reason: str, detail: str) -> None:
        self.trajectory.write({"type": "final", "exit_reason": reason, "detail": detail, "steps": self.steps,
                               "tokens": self.tokens, "seconds": round(self.elapsed(), 3)})
        print(f"agent stopped: {reason} after {self.steps} steps {detail}".rstrip(), file=sys.stderr)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    defaults = Limits()
    parser = argparse.ArgumentParser(description="The DGM seed coding agent.")
    parser.add_argument("--problem", required=True, type=Path, help="file with the problem statement")
    parser.add_argument("--workspace", required=True, type=Path, help="directory the agent works in")
    parser.add_argument("--out", required=True, type=Path, help="directory for trajectory.jsonl")
    for name, value in asdict(defaults).items():
        parser.add_argument("--" + name.replace("_", "-"), type=type(value), default=value)
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if not args.workspace.is_dir():
        print(f"--workspace {args.workspace} is not a directory", file=sys.stderr)
        return 2
    limits = Limits(**{name: getattr(args, name) for name in asdict(Limits())})
    problem = args.problem.read_text(encoding="utf-8")
    Agent(problem, str(args.workspace.resolve()), args.out, limits).run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
