"""The shell side of `DockerSandbox.exec`: what runs inside the container around every command.

The timeout is enforced inside the container, where the processes are. GNU `timeout` puts the
command in its own process group and signals the whole group (SIGKILL `KILL_AFTER_SECONDS` after
SIGTERM if the command lingers); after a timeout the wrapper SIGKILLs the group as well, so
children that ignore SIGTERM die even when their parent did not.

When the command ends, any process still holding the exec's output pipe 0.1 s later is killed,
in the group or not (setsid): the exec could not end before it did. The grace lets
`server >log 2>&1 &` apply its redirection first; such daemons, whose output goes elsewhere,
survive their exec.

Output (stdout and stderr interleaved) is capped in the container with `tail -c cap+1`, so a
runaway `yes` never crosses the daemon socket and a cap+1-byte result means "truncated".
The wrapper's own report goes to stderr, which carries nothing else: the exit code, whether
`timeout` fired, and the memory cgroup's `oom_kill` counter before and after (how a kill by the
OOM killer, exit 137 with the counter up, is told apart from a timeout).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

KILL_AFTER_SECONDS = 2

# Sets $o to the cgroup's oom_kill counter (cgroup v2 memory.events, else v1 memory.oom_control).
_OOM_COUNTER = r"""
cg=/sys/fs/cgroup/memory.events
[ -r "$cg" ] || cg=/sys/fs/cgroup/memory/memory.oom_control
oom() { o=0; while read -r k v; do [ "$k" = oom_kill ] && o=$v; done < "$cg"; } 2>/dev/null
"""

EXEC = _OOM_COUNTER + r"""
mode=$1 t=$2 cap=$3; shift 3
oom; before=$o
{
  if [ "$mode" = shell ]; then
    timeout --verbose -k KILL_AFTER "$t" bash -c 'exec 2>&1; exec bash -lc "$1"' dgm "$1" </dev/null &
  else
    timeout --verbose -k KILL_AFTER "$t" bash -c 'exec 2>&1; exec "$@"' dgm "$@" </dev/null &
  fi
  p=$!
  wait "$p"; rc=$?
  [ "$rc" = 124 ] && kill -KILL -- "-$p" 2>/dev/null
  holders() { h=; for fd in /proc/[0-9]*/fd/[12]; do
    [ "$fd" -ef "/proc/$BASHPID/fd/1" ] || continue
    q=${fd#/proc/}; q=${q%%/*}; [ "$q" = "$BASHPID" ] || h="$h $q"
  done; }
  holders
  if [ -n "$h" ]; then sleep 0.1; holders; [ -n "$h" ] && kill -KILL $h 2>/dev/null; fi
  echo "dgm-rc $rc" >&2
} | tail -c "$cap"
oom; echo "dgm-oom $before $o" >&2
""".replace("KILL_AFTER", str(KILL_AFTER_SECONDS))

OOM_COUNT = _OOM_COUNTER + 'oom; echo "$o"\n'

# The host backstop: kill every process but PID 1 (docker-init), the keep-alive `sleep $1`, itself.
SWEEP = r"""
for d in /proc/[0-9]*; do
  p=${d#/proc/}
  [ "$p" = 1 ] || [ "$p" = $$ ] && continue
  mapfile -d '' argv < "$d/cmdline" 2>/dev/null || continue
  [ "${argv[*]}" = "sleep $1" ] && continue
  kill -KILL "$p" 2>/dev/null
done
true
"""

_RC = re.compile(rb"^dgm-rc (\d+)$", re.MULTILINE)
_OOM = re.compile(rb"^dgm-oom (\d+) (\d+)$", re.MULTILINE)


def exec_argv(cmd: str | list[str], timeout: float, output_limit: int) -> list[str]:
    """The docker exec argv running `cmd` (a string through `bash -lc`) under the wrapper."""
    shell = isinstance(cmd, str)
    return ["bash", "-c", EXEC, "dgm-exec", "shell" if shell else "argv",
            f"{max(timeout, 0.001):.3f}", str(output_limit + 1), *([cmd] if shell else cmd)]


@dataclass(frozen=True)
class Report:
    exit_code: int
    timed_out: bool
    oom_before: int
    oom_after: int


def parse(stderr: bytes) -> Report | None:
    """The wrapper's report, or None when it did not finish (it was killed, or never started)."""
    rc, oom = _RC.findall(stderr), _OOM.findall(stderr)
    if not rc or not oom:
        return None
    return Report(int(rc[-1]), b"timeout: sending signal" in stderr, int(oom[-1][0]), int(oom[-1][1]))
