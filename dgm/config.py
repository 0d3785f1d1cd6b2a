"""Run configuration: one YAML file, validated into typed objects.

Why pydantic: it gives typed models, defaults and error locations (the key path) for free, and it
is already installed with litellm. Every model forbids unknown keys so a typo fails loudly instead
of being ignored for a two-week run. Errors are turned into one line naming the key path and what
was expected; the CLI prints that line without a traceback.

Each section belongs to one part of the framework; a key exists only if that part reads it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from dgm.errors import ConfigError

ROLES = ("diagnose", "self_improve", "solve", "meta")


class Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class RunConfig(Section):
    """Identity of a run: its name (the folder under the archive root) and its seed."""

    name: str | None = Field(default=None, description="run folder name; default: derived from the config file and time")
    seed: int = Field(default=0, ge=0)
    seed_agent: str | None = Field(default=None, min_length=1,
                                   description="the agent the archive starts from: a directory or RUN_DIR:AGENT_ID; "
                                               "default: the bundled agents/seed_agent")


class SandboxConfig(Section):
    """Limits and image of every sandbox container (DESIGN 3.2)."""

    image: str | None = Field(default=None, description="image tag; default: the recipe-hashed dgm-sandbox tag")
    memory_mb: int = Field(default=2048, ge=64)
    cpus: float = Field(default=1.0, gt=0, le=64)
    pids_limit: int = Field(default=256, ge=16)
    tmpfs_mb: int = Field(default=512, ge=16)
    ttl_seconds: int = Field(default=6 * 3600, ge=60, description="PID 1 sleeps this long: a leaked container dies by itself")
    output_limit_bytes: int = Field(default=200_000, ge=1024)
    max_diff_bytes: int = Field(default=5_000_000, ge=1024, description="an agent's diff larger than this is refused (agent_error / invalid child), never copied out")
    max_trajectory_bytes: int = Field(default=20_000_000, ge=1024, description="a larger trajectory.jsonl is cut to its last this-many bytes when copied out")


class ModelPrice(Section):
    """Price of a model the litellm cost map does not know, in dollars per million tokens."""

    input_per_mtok: float = Field(ge=0)
    output_per_mtok: float = Field(ge=0)
    cached_input_per_mtok: float | None = Field(default=None, ge=0)


class RoleConfig(Section):
    model: str | None = None
    temperature: float | None = Field(default=None, ge=0, le=2)
    max_tokens: int | None = Field(default=None, ge=1)


class RetryConfig(Section):
    max_attempts: int = Field(default=5, ge=1, le=50)
    base_delay: float = Field(default=1.0, ge=0)
    max_delay: float = Field(default=60.0, ge=0)


class LLMConfig(Section):
    """Models per role and how they are called (DESIGN 3.3)."""

    model: str | None = Field(default=None, description="default model for every role; 'scripted' names the test/demo double")
    api_base: str | None = None
    script: str | None = Field(default=None, description="YAML script of the scripted model (only when model is 'scripted')")
    temperature: float = Field(default=0.0, ge=0, le=2)
    max_tokens: int = Field(default=4096, ge=1)
    timeout_seconds: float = Field(default=120.0, gt=0, description="the whole of one model call (a server that drip-feeds its answer is cut off)")
    gateway_max_connections: int = Field(default=256, ge=4, description="connections the gateway serves at once over all sandboxes (one thread each); more are refused")
    gateway_connections_per_job: int = Field(default=8, ge=1, description="connections one job's sandbox may hold open; more are refused with 429")
    roles: dict[Literal["diagnose", "self_improve", "solve", "meta"], RoleConfig] = Field(default_factory=dict)
    prices: dict[str, ModelPrice] = Field(default_factory=dict)
    retry: RetryConfig = Field(default_factory=RetryConfig)


class JobBudget(Section):
    max_calls: int | None = Field(default=None, ge=1)
    max_tokens: int | None = Field(default=None, ge=1)
    max_dollars: float | None = Field(default=None, gt=0)


class BudgetConfig(Section):
    """Run-wide and per-job spending caps; a call that would start past a cap is refused."""

    max_dollars: float | None = Field(default=None, gt=0)
    max_tokens: int | None = Field(default=None, ge=1)
    per_job: JobBudget = Field(default_factory=JobBudget)


class LoopConfig(Section):
    """The outer Darwin loop (DESIGN 3.7); defaults are the reference's."""

    schedule: Literal["generational", "async"] = Field(
        default="generational", description="'async': no generations; each free worker runs the next unit of work (expand a node or evaluate one more task) that the HGM scheduler picks (docs/scheduling.md)")
    units: int | None = Field(
        default=None, ge=1, description="async: units of work before the run ends (default: generations x children_per_generation x (1 + tasks), the most a generational run does)")
    generations: int = Field(default=80, ge=0)
    children_per_generation: int = Field(default=2, ge=1)
    selection: Literal["score_child_prop", "score_prop", "best", "random", "hgm", "hyperagents", "latest"] = "score_child_prop"
    admission: Literal["keep_all", "keep_better"] = "keep_all"
    keep_better_margin: float = Field(default=0.1, ge=0, le=1, description="keep_better admits children scoring >= seed - margin")
    self_improver: Literal["parent", "seed"] = Field(default="parent", description="'seed': the seed, not the parent, implements each change (ablation)")
    workers: int = Field(default=2, ge=1, description="children worked on at once")
    deduplicate: bool = Field(default=True, description="a child whose source tree equals an earlier agent's is recorded as a duplicate, not evaluated")
    max_wall_hours: float | None = Field(default=None, gt=0)
    protected_paths: list[str] = Field(default_factory=lambda: ["llm.py"], description="agent files a child may not change")
    diagnosis_attempts: int = Field(default=3, ge=1, le=10)
    self_improve_seconds: int = Field(default=1800, ge=10)
    self_improve_max_steps: int = Field(default=100, ge=1)
    improver: Literal["framework", "agent"] = Field(
        default="framework", description="'agent': the agent's own improve.py decides and makes each change (docs/meta.md)")
    improver_visible_stages: int = Field(
        default=1, ge=1, description="agent improver: evaluation stages whose results it sees; later stages are held out")


class MetaConfig(Section):
    """The meta-loop (DESIGN 3.8, docs/meta.md): an agent rewrites the parent-selection policy,
    which is validated and tried in sandboxes, then kept or reverted by its meta-fitness."""

    enabled: bool = Field(default=False, description="false: the built-in loop.selection chooses parents directly")
    every: int = Field(default=10, ge=1, description="a meta step after every N-th generation (when no trial is running)")
    trial: int = Field(default=5, ge=1, description="generations a validated candidate governs before keep/revert")
    agent: Literal["seed", "best"] = Field(default="best", description="who rewrites the policy: the seed agent or the best agent so far")
    max_steps: int = Field(default=30, ge=1, description="step limit of the meta agent")
    max_seconds: int = Field(default=600, ge=10, description="time limit of the meta agent")
    policy_seconds: float = Field(default=10.0, gt=0, le=600, description="time limit of one policy run (validation and every generation)")
    top_k: int = Field(default=3, ge=1, description="meta-fitness uses the mean of the k best scores")


class ExecutorConfig(Section):
    """Where sandboxed jobs run (DESIGN 3.9): this machine, or nodes of a Ray cluster (docs/scaling.md)."""

    kind: Literal["local", "ray"] = Field(default="local", description="ray: each sandboxed job is a Ray task")
    address: str = Field(default="auto", min_length=1, description="ray: 'auto' (a cluster started on this machine), host:port or ray://host:port")
    resource: str = Field(default="docker", min_length=1, description="ray: custom resource that nodes with Docker and the sandbox image offer; one unit per running job")


class LanguageConfig(Section):
    """How one Polyglot language runs; every field defaults to the built-in setting of the six
    languages (dgm/benchmarks/polyglot_languages.py). Another language needs image and test_command."""

    image: str | None = Field(default=None, description="image with the toolchain, git and bash (default: the image of `dgm sandbox build --languages`; python: the sandbox image)")
    test_command: str | None = Field(default=None, description="{tests}: the test files, {exercise}: its name, {report}: where the runner writes its per-test results")
    results: str | None = Field(default=None, description="how per-test results are read (a name in dgm.evaluation.results.FORMATS: pytest, junit, go_test_json, ...; default: the language's built-in)")

    @field_validator("results")
    @classmethod
    def _known_format(cls, value: str | None) -> str | None:
        from dgm.evaluation.results import FORMATS

        if value is not None and value.partition(":")[0] not in FORMATS:
            raise ValueError(f"unknown results format {value!r} (expected one of {', '.join(sorted(FORMATS))})")
        return value


def _all_languages() -> dict[str, LanguageConfig]:
    return {name: LanguageConfig() for name in ("cpp", "go", "java", "javascript", "python", "rust")}


class BenchmarkConfig(Section):
    """Where tasks come from (DESIGN 3.5)."""

    name: Literal["mini", "humaneval", "swebench", "polyglot", "scored"] = "mini"
    path: str | None = Field(default=None, description="mini: a folder of task folders instead of the built-in one; swebench: the JSONL file; polyglot, scored: the root folder")
    image: str | None = Field(default=None, description="swebench: image name template over {instance_id} and {docker_id}")
    test_command: str | None = Field(default=None, description="swebench: test command template over {test_files}")
    task_ids: list[str] | None = Field(default=None, description="only these tasks of the suite (in this order)")
    languages: dict[str, LanguageConfig] = Field(default_factory=_all_languages, description="polyglot: the languages to load (default: all six; a language missing from the checkout is skipped unless named)")

    @model_validator(mode="after")
    def _path_where_needed(self) -> "BenchmarkConfig":
        if self.name in ("swebench", "polyglot", "scored") and not self.path:
            raise ValueError(f"the {self.name} benchmark needs a path (its data file or folder)")
        return self


class StageConfig(Section):
    """One stage of staged evaluation: how many more tasks, and when an agent gets them."""

    size: int = Field(ge=1)
    admit: Literal["always", "threshold", "second_best"] = Field(default="always", description="threshold: score so far >= threshold; second_best: score so far >= max(archive's second-best, threshold)")
    threshold: float = Field(default=0.0, ge=0, le=1)


class SolveConfig(Section):
    """Limits handed to the agent on every task (its --max-* flags); the task's timeout still applies."""

    max_steps: int = Field(default=50, ge=1)
    max_seconds: float | None = Field(default=None, gt=0, description="default: the task's solve timeout")
    max_tokens: int | None = Field(default=None, ge=1)


def _reference_stages() -> list[StageConfig]:
    return [StageConfig(size=10), StageConfig(size=50, admit="threshold", threshold=0.4),
            StageConfig(size=140, admit="second_best", threshold=0.4)]


class EvaluationConfig(Section):
    """Benchmarking one agent: the suite, staged evaluation, parallelism, retries (DESIGN 3.5)."""

    benchmark: BenchmarkConfig = Field(default_factory=BenchmarkConfig)
    stages: list[StageConfig] = Field(default_factory=_reference_stages, min_length=1)
    workers: int = Field(default=2, ge=1, description="tasks solved and graded at once")
    infra_retries: int = Field(default=2, ge=0, le=10, description="extra attempts for a task whose sandbox failed")
    include_hidden_tests_in_diagnosis: bool = False
    solve: SolveConfig = Field(default_factory=SolveConfig)

    @model_validator(mode="after")
    def _first_stage_always(self) -> "EvaluationConfig":
        if self.stages[0].admit != "always":
            raise ValueError("stages.0.admit must be 'always' (there is no score before the first stage)")
        return self


class Config(Section):
    """The whole run configuration."""

    run: RunConfig = Field(default_factory=RunConfig)
    sandbox: SandboxConfig = Field(default_factory=SandboxConfig)
    llm: LLMConfig = Field(default_factory=LLMConfig)
    budget: BudgetConfig = Field(default_factory=BudgetConfig)
    loop: LoopConfig = Field(default_factory=LoopConfig)
    executor: ExecutorConfig = Field(default_factory=ExecutorConfig)
    meta: MetaConfig = Field(default_factory=MetaConfig)
    evaluation: EvaluationConfig = Field(default_factory=EvaluationConfig)

    @model_validator(mode="after")
    def _scripted_needs_script(self) -> "Config":
        if self.llm.script is not None and self.llm.model not in (None, "scripted"):
            raise ValueError("llm.script is only read by the scripted model; set llm.model: scripted or remove llm.script")
        return self

    @model_validator(mode="after")
    def _meta_needs_score_child_prop(self) -> "Config":
        if self.meta.enabled and self.loop.selection != "score_child_prop":
            raise ValueError("meta.enabled needs loop.selection: score_child_prop (the seed policy p0 implements it "
                             "and it is the fallback when an evolved policy fails)")
        return self

    def to_dict(self) -> dict[str, Any]:
        return self.model_dump(mode="json")


# ---------------------------------------------------------------------------------------------
# Loading


def _describe(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _format_error(err: ValidationError, source: str) -> str:
    """First validation error as one line: where, what was expected, what was given."""
    first = err.errors()[0]
    path = ".".join(str(part) for part in first["loc"]) or "(top level)"
    kind = first["type"]
    if kind == "extra_forbidden":
        return f"{source}: unknown key '{path}' (check the spelling; see configs/ for valid keys)"
    if kind == "missing":
        return f"{source}: missing required key '{path}'"
    message = first["msg"]
    if message.startswith("Value error, "):
        message = message[len("Value error, "):]
    given = f", got {_describe(first['input'])}" if "input" in first and kind != "value_error" else ""
    return f"{source}: {path}: {message[0].lower() + message[1:]}{given}"


def parse_override(text: str) -> tuple[list[str], Any]:
    """`a.b=c` -> (['a', 'b'], c) with c parsed as a YAML scalar (so 3 is an int, true a bool)."""
    key, sep, raw = text.partition("=")
    if not sep or not key.strip():
        raise ConfigError(f"--set {text!r}: expected KEY.PATH=VALUE, e.g. --set llm.model=openai/gpt-4o")
    try:
        value = yaml.safe_load(raw) if raw.strip() else None
    except yaml.YAMLError:
        value = raw
    return key.strip().split("."), value


def apply_overrides(data: dict[str, Any], overrides: list[str]) -> dict[str, Any]:
    for text in overrides:
        path, value = parse_override(text)
        node = data
        for part in path[:-1]:
            child = node.get(part)
            if child is None:
                child = node[part] = {}
            if not isinstance(child, dict):
                raise ConfigError(f"--set {text!r}: '{part}' is a value, not a section")
            node = child
        node[path[-1]] = value
    return data


def validate(data: Any, source: str) -> Config:
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError(f"{source}: expected a mapping of sections at the top level, got {type(data).__name__}")
    try:
        return Config.model_validate(data)
    except ValidationError as err:
        raise ConfigError(_format_error(err, source)) from None


def read_yaml(path: Path) -> dict[str, Any]:
    if not path.is_file():
        raise ConfigError(f"config file not found: {path} (expected a YAML file, e.g. configs/quickstart.yaml)")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(err, "problem", None) or "invalid YAML"
        raise ConfigError(f"{path}: malformed YAML{where}: {problem}") from None
    if data is not None and not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a mapping of sections at the top level, got {type(data).__name__}")
    return data or {}


def load(path: str | Path | None, overrides: list[str] | None = None) -> Config:
    """Read, override and validate a config. `path=None` starts from the defaults."""
    data = read_yaml(Path(path)) if path is not None else {}
    data = apply_overrides(data, overrides or [])
    return validate(data, str(path) if path is not None else "config")
