"""The hardened Docker sandbox (DESIGN 3.2).

One container per sandbox, started on construction: no network, no capabilities, no privilege
escalation, user `agent`, a read-only root with tmpfs for the writable places, pid/memory/cpu
limits, labels for reaping, and PID 1 `sleep <ttl>` under docker-init so a leaked container dies
by itself.

`exec` runs the command under a bash wrapper inside the container (`dgm.sandbox.wrapper`): the
timeout is enforced there on the whole process tree, output is capped there keeping the tail, and
the wrapper reports exit code, timeout and OOM kills. The host waits a little longer than the
timeout as a backstop and then kills every process of the sandbox except its keep-alive.

Files travel as tar streams through exec stdin/stdout (see `tarpack`), because `docker cp` does
not see tmpfs mounts of a running container.
"""

from __future__ import annotations

import functools
import os
import re
import signal
import threading
import time
from pathlib import Path, PurePosixPath
from types import FrameType
from collections.abc import Mapping
from typing import Any, Callable, TypeVar

from dgm import log
from dgm.config import SandboxConfig
from dgm.errors import DgmError
from dgm.sandbox import ExecResult, SandboxUnavailable, hijack, tarpack, wrapper
from dgm.sandbox import image as sandbox_image

T = TypeVar("T")
AGENT = "1000:1000"
ROOT = "0:0"
BACKSTOP_SLACK_SECONDS = 15     # how much later than the timeout the host gives up on an exec
TRANSFER_SECONDS = 600          # deadline of one write/read tar stream
SWEEP_SECONDS = 30              # deadline of the sweep after an exec outlived its timeout
REMOVE_WAIT_SECONDS = 60        # how long close() waits for a removal another thread started
READONLY_ROOT = "/opt/dgm"      # root-owned tmpfs for copies the agent must not modify


class SandboxMountError(DgmError):
    """A bind mount the sandbox refuses (it would expose the Docker daemon or is not a directory)."""


class SandboxDeadlineExceeded(DgmError):
    """The sandbox outlived its wall-clock deadline and was removed by the host (the code it ran
    is at fault, like a timeout; not an infrastructure error)."""


class SandboxIOError(DgmError):
    """A file could not be written into or read out of the sandbox."""


class FileTooLarge(SandboxIOError):
    """A file in the sandbox is larger than the cap on what may leave it (nothing was copied)."""

    def __init__(self, path: str, size: int, limit: int) -> None:
        super().__init__(f"{path} is {size} bytes, over the limit of {limit} bytes")
        self.path, self.size, self.limit = path, size, limit


# A step riding on a write or a read: under a timeout (the process group is killed), its output
# into a file so nothing it leaves running can hold the exec open, and sent (to stderr, with the
# `dgm-before` line) only when it fails.
_STEP = r"""
step() {
  log=$(mktemp) || return 99
  timeout -k 2 "$1" bash -c "$2" >"$log" 2>&1 </dev/null; rc=$?
  [ $rc -eq 0 ] || { tail -c 2000 "$log" >&2; echo "dgm-before $rc" >&2; }
  rm -f -- "$log"; return $rc
}
"""
STEP_SECONDS = 120.0


class StepFailed(SandboxIOError):
    """The step `read(..., before=...)` runs before reading failed; `code` and `output` are its own."""

    def __init__(self, code: int, output: str) -> None:
        super().__init__(f"the step before the read failed (exit {code}): {output}")
        self.code, self.output = code, output


# Read one regular file, checking its size inside the sandbox; exit 3: missing, 4: not a regular
# file, 5: the step before it ($4) failed (its output is sent only then, so nothing it prints can
# pose as the size line). head/tail bound what is sent even if the file grows while it is read.
_READ = _STEP + r"""
f=$1 limit=$2 mode=$3
[ -z "$5" ] || step "$4" "$5" || exit 5
[ -e "$f" ] || [ -L "$f" ] || exit 3
{ [ -f "$f" ] && [ ! -L "$f" ]; } || exit 4
[ -n "$limit" ] || exec cat -- "$f"
echo "dgm-size $(stat -c %s -- "$f")" >&2
if [ "$mode" = tail ]; then exec tail -c "$limit" -- "$f"; fi
exec head -c "$((limit + 1))" -- "$f"
"""
_SIZE = re.compile(rb"^dgm-size (\d+)$", re.MULTILINE)
_BEFORE = re.compile(rb"^dgm-before (\d+)$", re.MULTILINE)


# ---------------------------------------------------------------------------------------------
# The daemon client and the registry of live sandboxes

_client_lock = threading.Lock()
_api_client: Any = None


def api():  # -> docker.APIClient
    """One low-level client for the process; its pool is large enough for many parallel jobs."""
    global _api_client
    with _client_lock:
        if _api_client is None:
            import docker

            try:
                _api_client = docker.from_env(max_pool_size=64, timeout=120).api
                _api_client.ping()
            except Exception as exc:
                _api_client = None
                raise SandboxUnavailable(f"Docker daemon not reachable ({exc}); start it and check `docker info`") from None
        return _api_client


def _daemon_url(client: Any) -> str:
    """The address `hijack` connects to: docker-py hides a unix socket behind a placeholder URL."""
    adapter = getattr(client, "_custom_adapter", None)
    socket_path = getattr(adapter, "socket_path", None)
    return f"http+unix://{socket_path}" if socket_path else client.base_url


_live_lock = threading.RLock()   # re-entrant: the signal handler may run while the main thread holds it
_live: dict[str, "DockerSandbox"] = {}
_previous_handlers: dict[int, Any] = {}
_shutting_down = False   # set by a SIGINT/SIGTERM: no sandbox may start any more
_starting = 0            # sandboxes being created right now
SHUTDOWN_WAIT_SECONDS = 10.0


def close_all() -> None:
    """Remove every sandbox this process still has open; one failure does not stop the rest."""
    with _live_lock:
        boxes = list(_live.values())
    for box in boxes:
        try:
            box.close()
        except SandboxUnavailable as exc:  # its TTL still ends it; `dgm sandbox prune` reaps it
            log.get(__name__).warning("sandbox teardown failed", container=box.id[:12], error=str(exc))


def _on_signal(signum: int, frame: FrameType | None) -> None:
    global _shutting_down
    with _live_lock:
        _shutting_down = True
    close_all()
    # Containers other threads are creating right now would outlive the process: wait for those
    # starts to finish (each removes its own container once it sees the flag), briefly.
    deadline = time.monotonic() + SHUTDOWN_WAIT_SECONDS
    while time.monotonic() < deadline:
        with _live_lock:
            if _starting == 0:
                break
        time.sleep(0.02)
    close_all()
    previous = _previous_handlers.get(signum)
    if callable(previous):
        previous(signum, frame)     # e.g. Python's SIGINT handler raises KeyboardInterrupt
    elif previous != signal.SIG_IGN:
        signal.signal(signum, signal.SIG_DFL)
        os.kill(os.getpid(), signum)


def install_signal_handlers() -> bool:
    """Close all sandboxes on SIGINT/SIGTERM, then behave as before. Only the main thread can."""
    if threading.current_thread() is not threading.main_thread():
        return False
    for signum in (signal.SIGINT, signal.SIGTERM):
        current = signal.getsignal(signum)
        if current is not _on_signal:
            _previous_handlers[signum] = current
            signal.signal(signum, _on_signal)
    return True


# ---------------------------------------------------------------------------------------------
# Validation of what the caller asks for


def _docker_socket_paths() -> list[Path]:
    paths = [Path("/var/run/docker.sock"), Path("/run/docker.sock")]
    host = os.environ.get("DOCKER_HOST", "")
    if host.startswith("unix://"):
        paths.append(Path(host[len("unix://"):]))
    # both spellings: refusing /var for /var/run/docker.sock is conservative but never wrong
    return sorted({q for p in paths for q in (p.absolute(), p.resolve())})


def check_mount(host_dir: Path, container_dir: str) -> tuple[Path, str]:
    """Refuse mounts that would hand the sandbox the Docker daemon (the socket or a dir holding it)."""
    resolved = Path(host_dir).resolve()
    for sock in _docker_socket_paths():
        if resolved == sock or resolved in sock.parents:
            raise SandboxMountError(f"refusing to mount {host_dir} into a sandbox: it exposes the Docker socket {sock}")
    if not resolved.is_dir():
        raise SandboxMountError(f"sandbox mount {host_dir} is not a directory (expected a host directory, e.g. the LLM socket dir)")
    if not PurePosixPath(container_dir).is_absolute():
        raise SandboxMountError(f"sandbox mount target {container_dir!r} must be an absolute path")
    return resolved, container_dir


def _tmpfs(config: SandboxConfig) -> dict[str, str]:
    size = f"size={config.tmpfs_mb}m"
    agent = f"rw,exec,nosuid,nodev,{size},uid=1000,gid=1000,mode=0755"
    return {
        "/tmp": f"rw,exec,nosuid,nodev,{size},mode=1777",
        "/home/agent": agent,
        "/work": agent,
        READONLY_ROOT: f"rw,exec,nosuid,nodev,{size},mode=0755",
    }


# ---------------------------------------------------------------------------------------------
# The sandbox


def _deadline_guarded(method: Callable[..., T]) -> Callable[..., T]:
    """Whatever a call fails with once the watchdog removed the sandbox, the cause is the deadline."""
    @functools.wraps(method)
    def guarded(self: "DockerSandbox", *args: Any, **kwargs: Any) -> T:
        try:
            return method(self, *args, **kwargs)
        except SandboxDeadlineExceeded:
            raise
        except Exception:
            if self._expired:
                raise self._dead("deadline") from None
            raise
    return guarded


class DockerSandbox:
    """A hardened container; see the module docstring. Use as a context manager."""

    def __init__(self, config: SandboxConfig, *, run: str, job: str, role: str,
                 image: str | None = None, mount: tuple[Path, str] | None = None,
                 env: dict[str, str] | None = None) -> None:
        self.config = config
        self.labels = {"dgm.run": run, "dgm.job": job, "dgm.role": role}
        self.image = image or config.image or sandbox_image.current_tag()
        self._mount = check_mount(*mount) if mount is not None else None
        self._env = dict(env or {})
        self._closed = False
        self._expired = False
        self._watchdog: threading.Timer | None = None
        self._gone = threading.Event()   # set once the container's removal has finished
        self._oom_seen = 0  # last oom_kill counter reported from inside; a fresh cgroup starts at 0
        self._log = log.get(__name__).bind(run=run, job=job, role=role)
        global _starting
        with _live_lock:
            if _shutting_down:
                raise SandboxUnavailable("the process is shutting down; no new sandbox is started")
            _starting += 1
        try:
            self.id = self._start()
        except BaseException:
            with _live_lock:
                _starting -= 1
            raise
        with _live_lock:
            stopping = _shutting_down
            if not stopping:
                _live[self.id] = self
                _starting -= 1
        if stopping:  # a signal arrived while the container was being created: it must not outlive us
            try:
                self._remove(self.id)
            finally:
                with _live_lock:
                    _starting -= 1  # only now may the signal handler let the process go
            raise SandboxUnavailable("the process is shutting down; the new sandbox was removed")
        install_signal_handlers()

    # -- life cycle ---------------------------------------------------------------------------

    def _start(self) -> str:
        import docker.errors

        client = api()
        c = self.config
        # Read-only: a unix socket on it still accepts connections, but the sandbox cannot replace
        # the socket (and intercept other jobs' tokens) even when the host user shares its uid.
        binds = {str(self._mount[0]): {"bind": self._mount[1], "mode": "ro"}} if self._mount else None
        host_config = client.create_host_config(
            network_mode="none",
            cap_drop=["ALL"],
            security_opt=["no-new-privileges"],
            read_only=True,
            tmpfs=_tmpfs(c),
            pids_limit=c.pids_limit,
            mem_limit=f"{c.memory_mb}m",
            memswap_limit=f"{c.memory_mb}m",
            nano_cpus=int(c.cpus * 1e9),
            init=True,
            binds=binds,
        )
        try:
            created = client.create_container(
                self.image, command=["sleep", str(c.ttl_seconds)], user=AGENT, labels=self.labels,
                environment=self._env, working_dir="/work", host_config=host_config,
                network_disabled=True,
            )
        except docker.errors.ImageNotFound:
            raise sandbox_image.ImageMissing(f"sandbox image {self.image} not found; run `dgm sandbox build`") from None
        except docker.errors.APIError as exc:
            raise SandboxUnavailable(f"cannot create a sandbox container: {exc.explanation or exc}") from None
        container_id = created["Id"]
        try:
            client.start(container_id)
        except docker.errors.APIError as exc:
            self._remove(container_id)
            raise SandboxUnavailable(f"cannot start sandbox container {container_id[:12]}: {exc.explanation or exc}") from None
        self._log.debug("sandbox started", container=container_id[:12], image=self.image)
        return container_id

    def set_deadline(self, seconds: float | None) -> None:
        """(Re)arm the host-side backstop: `seconds` from now the container is removed, whatever runs
        in it; later calls then raise SandboxDeadlineExceeded. None disarms it."""
        if self._watchdog is not None:
            self._watchdog.cancel()
            self._watchdog = None
        if seconds is not None and not self._closed:
            self._watchdog = threading.Timer(seconds, self._expire, args=(seconds,))
            self._watchdog.daemon = True
            self._watchdog.start()

    def _expire(self, seconds: float) -> None:
        self._expired = True
        self._log.warning("sandbox past its deadline; removing it", container=self.id[:12], seconds=seconds)
        try:
            self.close()
        except SandboxUnavailable as exc:  # its TTL still ends it; `dgm sandbox prune` reaps it
            self._log.warning("sandbox teardown failed", container=self.id[:12], error=str(exc))

    @property
    def expired(self) -> bool:
        """The watchdog removed the sandbox."""
        return self._expired

    def close(self) -> None:
        """Remove the container (killing whatever runs in it); safe to call twice."""
        if self._watchdog is not None and self._watchdog is not threading.current_thread():
            self._watchdog.cancel()
        with _live_lock:
            closing = self._closed
            self._closed = True
            _live.pop(self.id, None)
        if closing:     # another thread (the watchdog) is removing it: return once it is gone
            self._gone.wait(REMOVE_WAIT_SECONDS)
            return
        try:
            self._remove(self.id)
        finally:
            self._gone.set()

    @staticmethod
    def _remove(container_id: str) -> None:
        import docker.errors

        try:
            api().remove_container(container_id, force=True)
        except docker.errors.NotFound:
            pass
        except docker.errors.APIError as exc:
            if exc.status_code != 409:  # 409: removal already in progress
                raise SandboxUnavailable(f"cannot remove sandbox container {container_id[:12]}: {exc}") from None

    def __enter__(self) -> "DockerSandbox":
        return self

    def __exit__(self, exc_type: type[BaseException] | None, *rest: object) -> None:
        if exc_type is None:
            self.close()
            return
        try:  # do not let a failed teardown hide the exception that is already on its way
            self.close()
        except SandboxUnavailable as exc:
            self._log.warning("sandbox teardown failed", container=self.id[:12], error=str(exc))

    # -- running commands ---------------------------------------------------------------------

    def _dead(self, why: str) -> DgmError:
        if self._expired:
            return SandboxDeadlineExceeded(f"sandbox {self.id[:12]} ({self.labels['dgm.job']}) was removed: "
                                           "it ran past its wall-clock deadline")
        return SandboxUnavailable(f"sandbox {self.id[:12]} ({self.labels['dgm.job']}) is gone: {why}")

    def _running(self) -> bool:
        import docker.errors

        try:
            return bool(api().inspect_container(self.id)["State"]["Running"])
        except docker.errors.NotFound:
            return False

    def _stream(self, argv: list[str], *, user: str, deadline: float, stdin: bytes | None = None,
                cwd: str | None = None, env: dict[str, str] | None = None) -> tuple[str, bytes, bytes]:
        """Create and run one exec; returns (exec id, stdout, stderr). Raises StreamTimeout."""
        import docker.errors

        if self._closed:
            raise self._dead("it was closed")
        client = api()
        try:
            exec_id = client.exec_create(self.id, argv, stdout=True, stderr=True, stdin=stdin is not None,
                                         user=user, environment=env or None, workdir=cwd)["Id"]
        except docker.errors.NotFound:
            raise self._dead("the container no longer exists") from None
        except docker.errors.APIError as exc:
            if exc.status_code == 409 or not self._running():
                raise self._dead(str(exc.explanation or exc)) from None
            raise
        try:
            out, err = hijack.run(_daemon_url(client), client.api_version, exec_id, stdin=stdin, deadline=deadline)
        except hijack.StreamError as exc:
            raise self._dead(str(exc)) if not self._running() else SandboxUnavailable(str(exc)) from None
        return exec_id, out, err

    def _exit_code(self, exec_id: str) -> int | None:
        return api().exec_inspect(exec_id).get("ExitCode")

    @_deadline_guarded
    def exec(self, cmd: str | list[str], timeout: float, cwd: str | None = None,
             env: dict[str, str] | None = None) -> ExecResult:
        """Run `cmd` as the agent user (a string through `bash -lc`); the command's failure is data."""
        if timeout <= 0:
            raise ValueError(f"exec timeout must be positive, got {timeout}")
        argv = wrapper.exec_argv(cmd, timeout, self.config.output_limit_bytes)
        started = time.monotonic()
        deadline = started + timeout + wrapper.KILL_AFTER_SECONDS + BACKSTOP_SLACK_SECONDS
        # The last resort, should a Docker call itself hang: the container goes, whatever runs in it.
        step = threading.Timer(deadline - started + SWEEP_SECONDS + BACKSTOP_SLACK_SECONDS, self._expire,
                               args=(timeout,))
        step.daemon = True
        step.start()
        try:
            exec_id, out, err = self._stream(argv, user=AGENT, deadline=deadline, cwd=cwd, env=env)
        except hijack.StreamTimeout as late:
            self._log.warning("exec outlived its timeout; sweeping the sandbox", timeout=timeout)
            self._sweep_or_remove()
            return self._result(124, late.stdout, True, False, started)
        finally:
            step.cancel()
        report = wrapper.parse(err)
        if report is None:
            code, oom = self._unreported(exec_id)
            timed_out = b"timeout: sending signal" in err
        else:
            code, timed_out, oom = report.exit_code, report.timed_out, report.oom_after > report.oom_before
            self._oom_seen = report.oom_after
        return self._result(code, out, timed_out, code == 137 and oom and not timed_out, started)

    def _unreported(self, exec_id: str) -> tuple[int, bool]:
        """Exit code and OOM verdict of an exec whose wrapper did not report.

        Either the wrapper was killed (by the OOM killer, or with the whole container) or the exec
        never started (e.g. its cwd is missing). A probe exec tells a live sandbox from a dying one;
        the OOM verdict compares the counter with the last value this sandbox saw.
        """
        code = self._exit_code(exec_id)
        kills = self._oom_kills()
        if kills is None:
            deadline = time.monotonic() + 5  # the daemon may not have noticed the death yet
            while time.monotonic() < deadline:
                if not self._running():
                    raise self._dead("it stopped during exec")
                time.sleep(0.1)
            return (137 if code is None else code), False
        oom, self._oom_seen = kills > self._oom_seen, kills
        return (137 if code is None else code), oom

    def _oom_kills(self) -> int | None:
        """The memory cgroup's oom_kill counter, or None when the sandbox does not answer."""
        try:
            _, out, _ = self._stream(["bash", "-c", wrapper.OOM_COUNT], user=AGENT, deadline=time.monotonic() + 30)
        except (SandboxUnavailable, hijack.StreamTimeout):
            return None
        text = out.decode(errors="replace").strip()
        return int(text) if text.isdigit() else None

    def _result(self, code: int, out: bytes, timed_out: bool, oom_killed: bool, started: float) -> ExecResult:
        limit = self.config.output_limit_bytes
        truncated = len(out) > limit
        text = out[-limit:].decode("utf-8", errors="replace")
        return ExecResult(exit_code=code, output=text, timed_out=timed_out, truncated=truncated,
                          duration=time.monotonic() - started, oom_killed=oom_killed)

    def _sweep_or_remove(self) -> None:
        """Kill what the timed-out exec left behind; a sandbox that cannot even be swept (its
        process table or memory filled by that code) is removed like one past its deadline: the
        code that ran is at fault, so the caller must not see an infrastructure error."""
        try:
            self._stream(["bash", "-c", wrapper.SWEEP, "dgm-sweep", str(self.config.ttl_seconds)], user=AGENT,
                         deadline=time.monotonic() + SWEEP_SECONDS)
        except (hijack.StreamTimeout, SandboxUnavailable) as exc:
            if self._expired:
                return
            self._log.warning("sandbox does not answer after an exec timed out; removing it",
                              container=self.id[:12], error=str(exc))
            self._expired = True
            self.close()

    # -- files --------------------------------------------------------------------------------

    @_deadline_guarded
    def write(self, path: str, data: bytes | Path | Mapping[str, bytes | Path], *, readonly: bool = False,
              then: str | None = None, env: dict[str, str] | None = None) -> None:
        """Write bytes to the file `path`, copy a host directory's contents into the dir `path`, or
        (a mapping of relative names to bytes or directories) several of them under `path`.

        `readonly=True` writes as root (owner of /opt/dgm) so the agent user cannot modify the
        copy; the target must be somewhere root may write, i.e. under /opt/dgm or /tmp. `then`, a
        shell script, runs right after in the same exec, as the same user, with `env`, in `path`
        (one round trip instead of two); its failure raises SandboxIOError with its output.
        """
        target = PurePosixPath(path)
        if not target.is_absolute():
            raise SandboxIOError(f"sandbox path {path!r} must be absolute")
        uid = 0 if readonly else 1000
        if isinstance(data, Mapping):
            archive, into = tarpack.pack_tree(data, uid), str(target)
        elif isinstance(data, (bytes, bytearray, memoryview)):
            archive, into = tarpack.pack_file(target.name, bytes(data), uid), str(target.parent)
        else:
            archive, into = tarpack.pack_dir(Path(data), uid), str(target)
        script = 'mkdir -p -- "$1" && exec tar -x --no-same-owner -f - -C "$1"'
        if then:
            script = _STEP + 'mkdir -p -- "$1" && tar -x --no-same-owner -f - -C "$1" || exit 90\ncd -- "$1" && step "$2" "$3" || exit 5\n'
        argv = ["bash", "-c", script, "dgm-write", into, *([f"{STEP_SECONDS:g}", then] if then else [])]
        exec_id, out, err = self._transfer(argv, user=ROOT if readonly else AGENT, stdin=archive, env=env)
        code = self._exit_code(exec_id)
        if code == 0:
            return
        _raise_step_failure(code, err, then)
        raise SandboxIOError(f"cannot write {path} in the sandbox: {_first_line(out + err)}")

    @_deadline_guarded
    def read(self, path: str, *, max_bytes: int | None = None, keep_tail: bool = False,
             before: str | None = None, env: dict[str, str] | None = None) -> bytes:
        """Bytes of the regular file `path`.

        With `max_bytes`, the size is checked inside the sandbox and at most `max_bytes` + 1 bytes
        ever cross to the host: a larger file raises `FileTooLarge`, or with `keep_tail` its last
        `max_bytes` bytes are returned. A symlink, FIFO or device is refused (it could stream
        forever): `SandboxIOError`. `before`, a shell script run first in the same exec (as the
        agent user, with `env`; its output is not returned), makes the file: one round trip
        instead of two. Its failure raises `StepFailed`.
        """
        limit = "" if max_bytes is None else str(max_bytes)
        argv = ["bash", "-c", _READ, "dgm-read", path, limit, "tail" if keep_tail else "head",
                *([f"{STEP_SECONDS:g}", before] if before else [])]
        exec_id, out, err = self._transfer(argv, user=AGENT, env=env)
        code = self._exit_code(exec_id)
        _raise_step_failure(code, err, before)
        if code == 3:
            raise FileNotFoundError(f"{path} does not exist in the sandbox")
        if code == 4:
            raise SandboxIOError(f"cannot read {path} from the sandbox: not a regular file")
        if code != 0:
            raise SandboxIOError(f"cannot read {path} from the sandbox: {_first_line(err)}")
        if max_bytes is not None:
            size = _SIZE.search(err)
            total = int(size.group(1)) if size else len(out)
            if (total > max_bytes or len(out) > max_bytes) and not keep_tail:
                raise FileTooLarge(path, max(total, len(out)), max_bytes)
            if keep_tail:
                out = out[-max_bytes:]
        return out

    @_deadline_guarded
    def read_dir(self, path: str, dest: Path) -> None:
        exec_id, out, err = self._transfer(["tar", "-c", "-f", "-", "-C", path, "."], user=AGENT)
        if self._exit_code(exec_id) != 0:
            message = _first_line(err)
            if "No such file" in message:
                raise FileNotFoundError(f"{path} does not exist in the sandbox")
            raise SandboxIOError(f"cannot copy {path} out of the sandbox: {message}")
        tarpack.unpack(out, Path(dest))

    def _transfer(self, argv: list[str], *, user: str, stdin: bytes | None = None,
                  env: dict[str, str] | None = None) -> tuple[str, bytes, bytes]:
        try:
            return self._stream(argv, user=user, stdin=stdin, env=env, deadline=time.monotonic() + TRANSFER_SECONDS)
        except hijack.StreamTimeout:
            raise SandboxUnavailable(f"sandbox {self.id[:12]}: file transfer did not finish in {TRANSFER_SECONDS}s") from None


def _raise_step_failure(code: int | None, err: bytes, step: str | None) -> None:
    """StepFailed when a write's `then` or a read's `before` step failed (exit 5 and our line)."""
    failed = list(_BEFORE.finditer(err)) if code == 5 and step else []
    if failed:     # the last such line is ours; the step's own output comes before it
        raise StepFailed(int(failed[-1].group(1)), err[:failed[-1].start()].decode("utf-8", errors="replace").strip()[-300:])


def _first_line(data: bytes) -> str:
    text = data.decode("utf-8", errors="replace").strip()
    return text.splitlines()[0] if text else "(no message)"

