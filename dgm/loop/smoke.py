"""The cheap validity check of a child: does its code still compile and honour the contract?

Runs in a sandbox (the child's code is untrusted): every Python file must compile and
`python3 main.py --help` must exit 0. A child failing this would score zero on every task; catching
it here saves a whole evaluation and records why.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from dgm.config import SandboxConfig

if TYPE_CHECKING:
    from dgm.loop.context import RunContext

AGENT = "/opt/dgm/agent"
SMOKE_SECONDS = 60.0
SCRIPT = f"""set -e
cd {AGENT}
test -f main.py || {{ echo 'main.py is missing (the agent contract needs it)'; exit 3; }}
python3 - <<'PY'
import pathlib, sys
bad = []
for path in sorted(pathlib.Path('.').rglob('*.py')):
    try:
        compile(path.read_bytes(), str(path), 'exec')
    except SyntaxError as err:
        bad.append(f'{{path}}:{{err.lineno}}: {{err.msg}}')
if bad:
    print('syntax errors: ' + '; '.join(bad))
    sys.exit(4)
PY
python3 main.py --help > /tmp/help.txt 2>&1 || {{ echo "main.py --help failed:"; tail -5 /tmp/help.txt; exit 5; }}
grep -q -- '--problem' /tmp/help.txt || {{ echo 'main.py --help does not mention --problem (contract broken)'; exit 6; }}
"""
# Hyperagent mode (loop.improver: agent): the child's improvement entry point is part of the contract.
IMPROVE_SCRIPT = """
test -f improve.py || { echo 'improve.py is missing (loop.improver: agent needs it)'; exit 7; }
python3 improve.py --help > /tmp/improve-help.txt 2>&1 || { echo "improve.py --help failed:"; tail -5 /tmp/improve-help.txt; exit 8; }
grep -q -- '--context' /tmp/improve-help.txt || { echo 'improve.py --help does not mention --context (contract broken)'; exit 9; }
"""


def check(source: Path, ctx: "RunContext", *, job_key: str) -> str | None:
    """None when the child passes; otherwise the reason, in one line. Runs wherever the run's
    executor runs sandboxed jobs."""
    from dgm.scale import jobs

    job = jobs.smoke_check(source, sandbox=ctx.config.sandbox, run=ctx.run_label, key=job_key,
                           improve=ctx.config.loop.improver == "agent")
    return ctx.executor.run_job(job).value


def run_check(source: Path, sandbox: SandboxConfig, *, run: str, job_key: str, improve: bool = False) -> str | None:
    """The check itself, in a sandbox labelled with `run` and `job_key`."""
    from dgm.sandbox.docker_backend import DockerSandbox

    with DockerSandbox(sandbox, run=run, job=job_key, role="smoke") as sb:
        sb.write(AGENT, source, readonly=True)
        script = SCRIPT + (IMPROVE_SCRIPT if improve else "")
        result = sb.exec(script, timeout=SMOKE_SECONDS, env={"PYTHONDONTWRITEBYTECODE": "1"})
    if result.ok:
        return None
    if result.timed_out:
        return f"smoke check timed out after {SMOKE_SECONDS:g}s (main.py or improve.py --help hangs?)"
    detail = " ".join(result.output.split())[-300:]
    return f"smoke check failed: {detail}"
