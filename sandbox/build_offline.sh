#!/usr/bin/env bash
# Offline build of the sandbox image for machines that reach only Debian's package mirror.
# Usage: build_offline.sh TAG
# debootstrap a minimal bookworm with python3, pytest (graders write JUnit XML with it) and git,
# add the non-root user `agent` (uid 1000) and import the tree as a single-layer image.
set -euo pipefail
tag=${1:?usage: build_offline.sh TAG}
command -v debootstrap >/dev/null || { echo "debootstrap is not installed (apt-get install -y debootstrap)" >&2; exit 1; }
root=$(mktemp -d /tmp/dgm-rootfs.XXXXXX)
trap 'rm -rf "$root"' EXIT
debootstrap --variant=minbase --include=python3,python3-pytest,git,ca-certificates bookworm "$root" >&2
chroot "$root" /usr/sbin/groupadd --gid 1000 agent
chroot "$root" /usr/sbin/useradd --uid 1000 --gid 1000 --create-home --shell /bin/bash agent
rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/*
tar -C "$root" -c . | docker import \
    --change 'USER agent' \
    --change 'WORKDIR /home/agent' \
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change 'ENV HOME=/home/agent' \
    --change 'ENV LANG=C.UTF-8' \
    --change 'ENV PYTHONDONTWRITEBYTECODE=1' \
    --change 'CMD ["sleep", "infinity"]' \
    - "$tag" >&2
