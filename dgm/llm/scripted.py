"""The scripted model: a deterministic test and demo double defined by a YAML script.

It sits behind the same backend interface as litellm, so host-side calls and the gateway use it
unchanged. It is chosen only by `llm.model: scripted` and always named "scripted model
(test/demo double)" in output. Answers depend only on the script, the job key and the request, so
two runs with the same script answer the same (rule use is counted per job, never globally, so
concurrent jobs cannot steal each other's once-only rules). See docs/llm.md for the format.
"""

from __future__ import annotations

import json
import re
import threading
import time
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from dgm.errors import ConfigError
from dgm.llm.errors import ScriptMismatch
from dgm.llm.roles import SCRIPTED, SCRIPTED_LABEL
from dgm.llm.types import ChatRequest, ModelReply, Usage


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ToolCall(_Strict):
    name: str
    # A string is sent as it is, so a script can play a model that emits malformed JSON arguments.
    arguments: dict[str, Any] | str = Field(default_factory=dict)


class Reply(_Strict):
    content: str | None = None
    tool_calls: list[ToolCall] = Field(default_factory=list)


class Rule(_Strict):
    role: str | list[str] | None = None          # role name(s); None: any role
    job: str | None = None                       # regex searched in the job key
    match: str | None = None                     # regex searched in the message text
    where: Literal["last", "any", "system"] = "last"
    times: int | None = Field(default=None, ge=1)  # uses per job; None: unlimited
    reply: Reply

    @field_validator("job", "match")
    @classmethod
    def _compiles(cls, pattern: str | None) -> str | None:
        if pattern is not None:
            try:
                re.compile(pattern)
            except re.error as err:
                raise ValueError(f"invalid regex {pattern!r}: {err}") from None
        return pattern

    def applies(self, request: ChatRequest, job_key: str) -> bool:
        roles = [self.role] if isinstance(self.role, str) else self.role
        if roles is not None and request.role not in roles:
            return False
        if self.job is not None and not re.search(self.job, job_key):
            return False
        if self.match is None:
            return True
        return any(re.search(self.match, text, re.DOTALL) for text in _texts(request.messages, self.where))


class Script(_Strict):
    latency_seconds: float = Field(default=0.0, ge=0)
    rules: list[Rule] = Field(min_length=1)


def load_script(path: str | Path) -> Script:
    file = Path(path)
    if not file.is_file():
        raise ConfigError(f"llm.script: file not found: {file} (expected the scripted model's YAML script)")
    try:
        data = yaml.safe_load(file.read_text(encoding="utf-8"))
        return Script.model_validate(data)
    except yaml.YAMLError as err:
        raise ConfigError(f"{file}: malformed YAML in the scripted model's script: {err}".splitlines()[0]) from None
    except ValidationError as err:
        first = err.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "(top level)"
        raise ConfigError(f"{file}: {where}: {first['msg']} (see docs/llm.md, 'Scripted model')") from None


class ScriptedModel:
    def __init__(self, script: Script) -> None:
        self._script = script
        self._lock = threading.Lock()
        self._uses: dict[tuple[str, int], int] = {}
        self._calls: dict[str, int] = {}

    def call(self, request: ChatRequest, job_key: str) -> ModelReply:
        with self._lock:
            index = self._pick(request, job_key)
            self._uses[(job_key, index)] = self._uses.get((job_key, index), 0) + 1
            number = self._calls.get(job_key, 0)
            self._calls[job_key] = number + 1
        if self._script.latency_seconds:
            time.sleep(self._script.latency_seconds)
        return _reply(self._script.rules[index].reply, request, job_key, number)

    def _pick(self, request: ChatRequest, job_key: str) -> int:
        for index, rule in enumerate(self._script.rules):
            left = rule.times is None or self._uses.get((job_key, index), 0) < rule.times
            if left and rule.applies(request, job_key):
                return index
        last = next(iter(_texts(request.messages, "last")), "")
        raise ScriptMismatch(f"{SCRIPTED_LABEL}: no rule left for role {request.role!r}, job {job_key!r}, "
                             f"last message {last[:80]!r}")


def _texts(messages: list[dict[str, Any]], where: str) -> list[str]:
    if where == "last":
        chosen = [m for m in messages if m.get("role") in ("user", "tool")][-1:]
    elif where == "system":
        chosen = [m for m in messages if m.get("role") == "system"]
    else:
        chosen = messages
    return [_text(m) for m in chosen]


def _text(message: dict[str, Any]) -> str:
    content = message.get("content")
    if isinstance(content, list):   # content blocks
        return "\n".join(str(block.get("text", "")) for block in content if isinstance(block, dict))
    return "" if content is None else str(content)


def _reply(reply: Reply, request: ChatRequest, job_key: str, number: int) -> ModelReply:
    message: dict[str, Any] = {"role": "assistant", "content": reply.content}
    out_text = reply.content or ""
    if reply.tool_calls:
        calls = []
        for i, call in enumerate(reply.tool_calls):
            arguments = call.arguments if isinstance(call.arguments, str) else json.dumps(call.arguments, sort_keys=True)
            out_text += call.name + arguments
            calls.append({"id": f"call_{number}_{i}", "type": "function",
                          "function": {"name": call.name, "arguments": arguments}})
        message["tool_calls"] = calls
    # Token counts are a fixed function of the text (about four characters a token) so budgets
    # and progress figures behave like a real run's, deterministically.
    prompt = json.dumps([request.messages, request.tools], sort_keys=True)
    usage = Usage(input_tokens=max(1, len(prompt) // 4), output_tokens=max(1, len(out_text) // 4))
    response = {
        "id": f"scripted-{job_key}-{number}",
        "object": "chat.completion",
        "created": 0,
        "model": SCRIPTED,
        "system_fingerprint": SCRIPTED_LABEL,
        "choices": [{"index": 0, "message": message,
                     "finish_reason": "tool_calls" if reply.tool_calls else "stop"}],
        "usage": usage.openai_dict(),
    }
    return ModelReply(response=response, usage=usage)
