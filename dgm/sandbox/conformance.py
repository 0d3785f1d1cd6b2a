"""Conformance checks of the sandbox against the live daemon: `dgm sandbox check` and the tests.

Each check exercises one promise of DESIGN 3.2 on real containers and returns an `Outcome` with
what it saw, so the CLI can print a table and the tests can assert on the same code. Limits are
small (`CHECK_CONFIG`) so the memory and pids checks hit them in a second or two.
"""

from __future__ import annotations

import os
import tempfile
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from dgm.config import SandboxConfig
from dgm.sandbox import SandboxUnavailable
from dgm.sandbox.docker_backend import DockerSandbox

CHECK_CONFIG = SandboxConfig(memory_mb=256, pids_limit=64, tmpfs_mb=64, output_limit_bytes=4096, cpus=1.0)


@dataclass(frozen=True)
class Outcome:
    ok: bool
    detail: str


@dataclass
class Subject:
    """What the checks run against: one shared sandbox plus fresh ones for life-cycle checks."""

    run: str = field(default_factory=lambda: f"check-{uuid.uuid4().hex[:10]}")
    config: SandboxConfig = CHECK_CONFIG
    image: str | None = None
    _shared: DockerSandbox | None = None

    def new(self, job: str) -> DockerSandbox:
        return DockerSandbox(self.config, run=self.run, job=job, role="check", image=self.image)

    def shared(self) -> DockerSandbox:
        if self._shared is None:
            self._shared = self.new("shared")
        return self._shared

    def close(self) -> None:
        if self._shared is not None:
            self._shared.close()
            self._shared = None


def _status_field(box: DockerSandbox, name: str) -> str:
    text = box.read("/proc/self/status").decode()  # `cat` reads its own status: an exec'd process
    return next((line.split(":", 1)[1].strip() for line in text.splitlines() if line.startswith(name + ":")), "?")


def pids_running(box: DockerSandbox, argv: str) -> list[str]:
    """Pids of the sandbox's processes whose command line is exactly `argv` (space-joined)."""
    script = 'for d in /proc/[0-9]*; do mapfile -d "" a < "$d/cmdline" 2>/dev/null && [ "${a[*]}" = "$0" ] && echo "${d#/proc/}"; done; true'
    return box.exec(["bash", "-c", script, argv], timeout=10).output.split()


def non_root(subject: Subject) -> Outcome:
    box = subject.shared()
    ids = box.exec("echo $(id -u):$(id -g)", timeout=10).output.strip()
    caps, nnp = _status_field(box, "CapEff"), _status_field(box, "NoNewPrivs")
    ok = ids == "1000:1000" and int(caps, 16) == 0 and nnp == "1"
    return Outcome(ok, f"uid:gid {ids}, effective caps {caps}, no_new_privs {nnp}")


def read_only_root(subject: Subject) -> Outcome:
    r = subject.shared().exec("touch /probe /usr/probe; touch /work/probe /tmp/probe /home/agent/probe && echo writable-ok", timeout=10)
    ok = r.output.count("Read-only file system") == 2 and "writable-ok" in r.output
    return Outcome(ok, "/ and /usr refuse writes, /work /tmp /home/agent accept" if ok else r.output.strip()[-200:])


def only_loopback(subject: Subject) -> Outcome:
    text = subject.shared().read("/proc/net/dev").decode()
    interfaces = sorted(line.split(":", 1)[0].strip() for line in text.splitlines()[2:] if ":" in line)
    return Outcome(interfaces == ["lo"], f"interfaces: {', '.join(interfaces)}")


def no_daemon_or_secrets(subject: Subject) -> Outcome:
    r = subject.shared().exec("ls /var/run/docker.sock /run/docker.sock 2>/dev/null; env | cut -d= -f1 | grep -iE 'key|secret|token|docker' || true", timeout=10)
    leaked = r.output.split()
    return Outcome(not leaked, "no Docker socket, no key-like variables" if not leaked else f"found: {' '.join(leaked)}")


def exec_status_and_output(subject: Subject) -> Outcome:
    r = subject.shared().exec("echo out; echo err >&2; exit 7", timeout=10)
    ok = r.exit_code == 7 and r.output == "out\nerr\n" and not r.timed_out
    return Outcome(ok, f"exit {r.exit_code}, output {r.output!r}")


def timeout_kills_tree(subject: Subject) -> Outcome:
    box = subject.shared()
    r = box.exec("(trap '' TERM; exec sleep 301) & (trap '' TERM; while :; do sleep 1; done) & wait", timeout=1)
    left = pids_running(box, "sleep 301")
    ok = r.timed_out and not r.oom_killed and not left
    return Outcome(ok, f"timed_out={r.timed_out} after {r.duration:.1f}s, survivors: {len(left)}")


def output_cap_keeps_tail(subject: Subject) -> Outcome:
    box = subject.shared()
    limit = box.config.output_limit_bytes
    r = box.exec(f"python3 -c \"print('x' * {limit * 4}); print('THE-END')\"", timeout=20)
    ok = r.truncated and len(r.output.encode()) == limit and r.output.endswith("THE-END\n")
    return Outcome(ok, f"truncated={r.truncated}, kept {len(r.output.encode())} of {limit * 4 + 9} bytes, tail {r.output[-8:]!r}")


def binary_round_trip(subject: Subject) -> Outcome:
    box = subject.shared()
    with tempfile.TemporaryDirectory() as tmp:
        src, dest = Path(tmp, "src"), Path(tmp, "dest")
        (src / "deep" / "er").mkdir(parents=True)
        files = {"all-bytes.bin": bytes(range(256)) * 64, "deep/er/random.bin": os.urandom(200_000),
                 "ünï cödé.txt": "ünï\r\n\x00".encode(), "empty": b""}
        for rel, data in files.items():
            (src / rel).write_bytes(data)
        os.symlink("deep/er/random.bin", src / "link")
        box.write("/work/rt", src)
        box.read_dir("/work/rt", dest)
        same = all((dest / rel).read_bytes() == data for rel, data in files.items())
        link = os.readlink(dest / "link") if (dest / "link").is_symlink() else None
        single = box.read("/work/rt/all-bytes.bin") == files["all-bytes.bin"]
    ok = same and single and link == "deep/er/random.bin"
    return Outcome(ok, f"{len(files)} files and a symlink copied in and out, identical={same and single}, link={link}")


def readonly_copy(subject: Subject) -> Outcome:
    box = subject.shared()
    box.write("/opt/dgm/probe/tool.py", b"print('ok')\n", readonly=True)
    r = box.exec("python3 /opt/dgm/probe/tool.py; echo tamper >> /opt/dgm/probe/tool.py; rm -f /opt/dgm/probe/tool.py; cat /opt/dgm/probe/tool.py", timeout=10)
    ok = r.output.startswith("ok\n") and r.output.count("Permission denied") == 2 and r.output.endswith("print('ok')\n")
    return Outcome(ok, "agent can run but not modify /opt/dgm copies" if ok else r.output.strip()[-200:])


_FORK_PROBE = """
import os, time
n = 0
try:
    for _ in range({tries}):
        if os.fork() == 0:
            time.sleep(60)
            os._exit(0)
        n += 1
    print("unbounded", n)
except OSError as exc:
    print("bounded", n, exc.strerror)
"""


def pids_limit(subject: Subject) -> Outcome:
    box = subject.shared()
    limit = box.config.pids_limit
    r = box.exec(["python3", "-c", _FORK_PROBE.format(tries=limit * 4)], timeout=30)
    after = box.exec("echo alive", timeout=10)
    ok = r.output.startswith("bounded") and after.output == "alive\n"
    return Outcome(ok, f"{r.output.strip()} (pids_limit {limit}); sandbox usable afterwards: {after.ok}")


def memory_limit_is_oom(subject: Subject) -> Outcome:
    box = subject.shared()
    mb = box.config.memory_mb * 2
    r = box.exec(["python3", "-c", f"b = b'x' * ({mb} * 1024 * 1024); print('survived')"], timeout=60)
    ok = r.oom_killed and not r.timed_out and r.exit_code == 137 and "survived" not in r.output
    return Outcome(ok, f"{mb} MiB over a {box.config.memory_mb} MiB limit: exit {r.exit_code}, oom_killed={r.oom_killed}, timed_out={r.timed_out}")


def dead_container_unavailable(subject: Subject) -> Outcome:
    from dgm.sandbox.docker_backend import api

    calls = {"exec": lambda box: box.exec("true", timeout=10), "read": lambda box: box.read("/etc/hostname"),
             "write": lambda box: box.write("/work/x", b"x")}
    with subject.new("killed") as box:
        api().kill(box.id)
        raised = []
        for name, call in calls.items():
            try:
                call(box)
            except SandboxUnavailable:
                raised.append(name)
    ok = raised == list(calls)
    return Outcome(ok, f"after an outside kill, SandboxUnavailable from: {', '.join(raised) or 'nothing'}")


def no_leak_on_exception(subject: Subject) -> Outcome:
    from dgm.sandbox.prune import leftovers

    class Boom(Exception):
        pass

    before = set(leftovers(subject.run))
    try:
        with subject.new("raises") as box:
            box.exec("true", timeout=10)
            raise Boom
    except Boom:
        pass
    left = set(leftovers(subject.run)) - before
    return Outcome(not left, "container removed after an exception in `with`" if not left else f"left behind: {left}")


CHECKS: dict[str, Callable[[Subject], Outcome]] = {
    "runs as non-root without capabilities": non_root,
    "root filesystem is read-only": read_only_root,
    "no network interface but lo": only_loopback,
    "no Docker socket or secrets inside": no_daemon_or_secrets,
    "exec returns exit code and output": exec_status_and_output,
    "timeout kills a SIGTERM-ignoring tree": timeout_kills_tree,
    "output cap keeps the tail": output_cap_keeps_tail,
    "binary directory round trip": binary_round_trip,
    "read-only copies under /opt/dgm": readonly_copy,
    "fork loop stops at pids_limit": pids_limit,
    "over-limit allocation reported as OOM": memory_limit_is_oom,
    "outside kill raises SandboxUnavailable": dead_container_unavailable,
    "exception in `with` leaves no container": no_leak_on_exception,
}


def run_all(image: str | None = None) -> list[tuple[str, Outcome]]:
    """Every check, in order; a check that raises is reported as failed, not propagated."""
    subject = Subject(image=image)
    results: list[tuple[str, Outcome]] = []
    try:
        for title, check in CHECKS.items():
            try:
                outcome = check(subject)
            except Exception as exc:  # a broken check is a failed check, with its reason
                outcome = Outcome(False, f"{type(exc).__name__}: {exc}")
            results.append((title, outcome))
    finally:
        subject.close()
        from dgm.sandbox.prune import prune

        prune(subject.run)
    return results
