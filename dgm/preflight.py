"""Checks before anything is spent or written: a broken set-up fails in seconds, not after a run.

Each check raises `PreflightError` (exit 2) with one line naming what is wrong and what to do.
`dgm run` and `dgm eval` call `check_setup` before they create a run or an output folder, so a
refused start leaves nothing behind.

- `check_agent_dir`: a directory obeys the agent contract as far as the host can tell without
  running it (agents are untrusted, so nothing of it executes here): main.py is a regular file,
  every Python file compiles, main.py names the contract's flags. The sandboxed smoke check
  (dgm.loop.smoke) still runs `main.py --help` for children.
- `check_script`: the scripted model's script exists and parses.
- `check_models`: each distinct configured model answers one minimal call (max_tokens=1, no
  retries, not recorded, not metered). `--no-preflight` skips this for users who must not spend
  a call; a run then stops at its first call that meets the same failure (`ModelUnavailable`).
- prices: dgm.llm.pricing.check_prices (an unpriced model has no honest budget).
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from dgm.config import ROLES, Config
from dgm.errors import DgmError

CONTRACT_FLAGS = ("--problem", "--workspace", "--out")
PING_MESSAGES = [{"role": "user", "content": "Reply with the single word: ok"}]
MAX_PY_FILES = 2000        # an agent is a small program; more files than this is not an agent


class PreflightError(DgmError):
    """The set-up cannot work; nothing was spent or written."""

    exit_code = 2


def check_agent_dir(path: Path, what: str = "agent directory") -> None:
    """Refuse a directory that cannot be an agent (see the module docstring). Never runs its code."""
    path = Path(path)
    if not path.is_dir():
        raise PreflightError(f"{what} {path} is not a directory (expected a folder with main.py following "
                             "the agent contract, e.g. agents/seed_agent)")
    main = path / "main.py"
    if main.is_symlink() or not main.is_file():
        raise PreflightError(f"{what} {path} has no main.py (expected a regular file main.py taking "
                             f"{' '.join(CONTRACT_FLAGS)}; see agents/seed_agent/README.md)")
    problems: list[str] = []
    files = sorted(p for p in path.rglob("*.py") if p.is_file() and not p.is_symlink()
                   and "__pycache__" not in p.parts)
    if len(files) > MAX_PY_FILES:
        raise PreflightError(f"{what} {path} holds {len(files)} Python files (more than {MAX_PY_FILES}; "
                             "expected an agent's source folder)")
    for file in files:
        try:
            compile(file.read_bytes(), str(file.relative_to(path)), "exec", dont_inherit=True)
        except (SyntaxError, ValueError) as err:
            line = getattr(err, "lineno", None)
            problems.append(f"{file.relative_to(path)}{':' + str(line) if line else ''}: {err.__class__.__name__}")
    if problems:
        raise PreflightError(f"{what} {path}: Python files do not compile ({'; '.join(problems[:5])}); "
                             "fix them or pick another agent")
    text = main.read_text(encoding="utf-8", errors="replace")
    missing = [flag for flag in CONTRACT_FLAGS if flag not in text]
    if missing:
        raise PreflightError(f"{what} {path}: main.py does not mention {', '.join(missing)} (the agent contract "
                             f"runs `python3 main.py {' '.join(f + ' ...' for f in CONTRACT_FLAGS)}`)")


def _configured_models(config: Config, roles: Iterable[str]) -> dict[str, str]:
    """model -> first role using it, for the roles that have a model; roles without one are skipped."""
    from dgm.llm.roles import role_settings

    models: dict[str, str] = {}
    for role in roles:
        own = config.llm.roles.get(role)  # type: ignore[call-overload]
        if (own is None or own.model is None) and config.llm.model is None:
            continue
        models.setdefault(role_settings(config.llm, role).model, role)
    return models


def check_script(config: Config) -> None:
    """The scripted model's script exists and is a valid script."""
    if config.llm.script is None:
        return
    from dgm.llm.scripted import load_script

    try:
        load_script(config.llm.script)
    except DgmError as err:
        raise PreflightError(f"{err} (set llm.script to the YAML script, e.g. configs/demo/script.yaml)") from None


def check_models(config: Config, roles: Iterable[str] = ROLES) -> None:
    """Each distinct real model the roles use answers one minimal call (nothing recorded)."""
    from dgm.llm.client import LLMClient
    from dgm.llm.errors import LLMCallError
    from dgm.llm.roles import SCRIPTED

    models = {m: r for m, r in _configured_models(config, roles).items() if m != SCRIPTED}
    if not models:
        return
    single = config.llm.model_copy(update={"retry": config.llm.retry.model_copy(update={"max_attempts": 1})})
    client = LLMClient(single)
    for model, role in models.items():
        request = client.request(role, PING_MESSAGES, max_tokens=1)
        try:
            client.complete(request, "preflight")
        except LLMCallError as err:
            where = f" at {config.llm.api_base}" if config.llm.api_base else ""
            raise PreflightError(f"model {model}{where} does not answer a one-token test call: "
                                 f"{type(err).__name__}: {err} ({_advice(err)}; --no-preflight skips this call)") from None


def _advice(err: Exception) -> str:
    from dgm.llm.errors import AuthenticationFailed, MissingCredential, ModelUnreachable

    if isinstance(err, MissingCredential):
        return ("set the provider's API key variable on this host (e.g. OPENAI_API_KEY; a local server that "
                "needs no key takes any value)")
    if isinstance(err, AuthenticationFailed):
        return "the API key was rejected: check its value and that it is valid for this model"
    if isinstance(err, ModelUnreachable):
        return "nothing answers there: start the server or fix llm.api_base"
    return "check the API key, llm.api_base and that the server runs"


def run_roles(config: Config) -> tuple[str, ...]:
    """The roles a run calls: all of them, but the meta role only with the meta-loop on."""
    return tuple(role for role in ROLES if role != "meta" or config.meta.enabled)


def check_setup(config: Config, *, agent_dir: Path | None = None, agent_label: str = "agent directory",
                roles: Iterable[str] = ROLES, call_models: bool = True) -> None:
    """All checks, cheapest first; raises PreflightError on the first failure. `call_models`
    off (`--no-preflight`) skips only the model calls: the other checks spend nothing."""
    from dgm.llm.pricing import Pricer, unknown_price_message

    roles = tuple(roles)
    if agent_dir is not None:
        check_agent_dir(agent_dir, agent_label)
    check_script(config)
    pricer = Pricer(config.llm.prices)
    for model in _configured_models(config, roles):
        if not pricer.known(model):
            raise PreflightError(unknown_price_message(model))
    if call_models:
        check_models(config, roles)
