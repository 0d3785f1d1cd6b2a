#!/usr/bin/env bash
# One-command set-up, idempotent: venv + package, a Docker daemon that answers, the sandbox image.
# Called by `make test` (with --tests) and `make demo`; a second run skips what is already done.
set -euo pipefail
cd "$(dirname "$0")/.."

say() { printf 'setup: %s\n' "$*" >&2; }

# 1. Virtual environment with the package installed (re-installed when pyproject.toml changes).
stamp=.venv/.dgm-installed
want=$(sha256sum pyproject.toml | cut -c1-16)
if [ ! -x .venv/bin/python ]; then
    say "creating .venv"
    python3 -m venv .venv
fi
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
    say "installing dgm and its dev dependencies into .venv"
    .venv/bin/python -m pip install -q --disable-pip-version-check -e '.[dev]'
    echo "$want" > "$stamp"
fi

# 2. A Docker daemon that answers.
docker_up() { command -v docker >/dev/null && timeout 20 docker info >/dev/null 2>&1; }
if ! docker_up; then
    if ! command -v dockerd >/dev/null; then
        if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
            say "installing docker.io with apt"
            DEBIAN_FRONTEND=noninteractive apt-get update -qq
            DEBIAN_FRONTEND=noninteractive apt-get install -y -qq docker.io >/dev/null
        else
            say "Docker is not installed. Install Docker Engine (https://docs.docker.com/engine/install/) and start it, then re-run."
            exit 1
        fi
    fi
    if ! docker_up; then
        if [ "$(id -u)" = 0 ]; then
            say "starting dockerd in the background (log: /var/log/dgm-dockerd.log)"
            nohup dockerd >/var/log/dgm-dockerd.log 2>&1 &
            for _ in $(seq 1 60); do docker_up && break; sleep 1; done
        fi
        docker_up || { say "the Docker daemon does not answer 'docker info'. Start it (e.g. 'sudo systemctl start docker') and re-run."; exit 1; }
    fi
fi

# 3. The sandbox image (rebuilt only when its recipe changes; needs debootstrap offline).
if ! command -v debootstrap >/dev/null && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    say "installing debootstrap with apt (offline image build)"
    DEBIAN_FRONTEND=noninteractive apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap >/dev/null
fi
.venv/bin/dgm sandbox build

# 4. For the tests only (`setup.sh --tests`): headless Chromium, which tests/test_report.py uses
#    to render `dgm archive report`.
if [ "${1:-}" = "--tests" ] && ! command -v chromium >/dev/null && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    say "installing chromium with apt (the report test opens the HTML report headless)"
    DEBIAN_FRONTEND=noninteractive apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
fi

# 5. For the tests only: the Polyglot language images that tests/test_polyglot_grading.py grades
#    in (cached by recipe hash: a no-op when the tags exist; from scratch about 9 minutes). The
#    JavaScript image installs jest with the host's npm.
if [ "${1:-}" = "--tests" ]; then
    if ! command -v npm >/dev/null && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
        say "installing npm with apt (the javascript image's test tools come from the npm registry)"
        DEBIAN_FRONTEND=noninteractive apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq npm >/dev/null
    fi
    if [ "$(id -u)" = 0 ]; then
        .venv/bin/dgm sandbox build --languages cpp,go,java,javascript,rust
    else
        .venv/bin/dgm sandbox build --languages cpp,go,java,javascript,rust ||
            say "the language images need root to build; the Polyglot grading tests will fail without them"
    fi
fi
