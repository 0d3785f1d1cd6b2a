#!/usr/bin/env bash
# Build one language's sandbox image on top of the Python sandbox image, from Debian's packages
# (and, for JavaScript, the npm registry). No base image is pulled: the sandbox image's tree is
# exported, its language packages are installed into it with apt-get in a chroot, the language's
# host-side step runs (languages/<lang>/post.sh ROOT), and the tree is imported as one layer.
# A language's optional `sources` file adds apt source lines (Go: bookworm-backports).
# Usage: build.sh BASE_TAG LANG_DIR TAG
set -euo pipefail
base=${1:?usage: build.sh BASE_TAG LANG_DIR TAG}
lang_dir=${2:?usage: build.sh BASE_TAG LANG_DIR TAG}
tag=${3:?usage: build.sh BASE_TAG LANG_DIR TAG}
root=$(mktemp -d /tmp/dgm-lang-rootfs.XXXXXX)
cid=""
cleanup() {
    umount "$root/proc" 2>/dev/null || true
    [ -n "$cid" ] && docker rm -f "$cid" >/dev/null 2>&1 || true
    rm -rf "$root"
}
trap cleanup EXIT
cid=$(docker create "$base" true)
docker export "$cid" | tar -C "$root" -x
docker rm -f "$cid" >/dev/null && cid=""
cat > "$root/etc/apt/sources.list" <<'LIST'
deb http://deb.debian.org/debian bookworm main
deb http://deb.debian.org/debian bookworm-updates main
deb http://deb.debian.org/debian-security bookworm-security main
LIST
if [ -f "$lang_dir/sources" ]; then grep -v '^#' "$lang_dir/sources" >> "$root/etc/apt/sources.list"; fi
cp /etc/resolv.conf "$root/etc/resolv.conf"
mount -t proc proc "$root/proc"
packages=$(grep -v '^#' "$lang_dir/packages" | tr '\n' ' ')
chroot "$root" env DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2
# shellcheck disable=SC2086
chroot "$root" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $packages >&2
chroot "$root" apt-get clean
umount "$root/proc"
rm -rf "$root"/var/lib/apt/lists/* "$root"/var/cache/apt/archives/*.deb
: > "$root/etc/resolv.conf"
if [ -f "$lang_dir/post.sh" ]; then bash "$lang_dir/post.sh" "$root" >&2; fi
changes=(--change 'USER agent' --change 'WORKDIR /home/agent'
         --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'
         --change 'ENV HOME=/home/agent' --change 'ENV LANG=C.UTF-8'
         --change 'ENV PYTHONDONTWRITEBYTECODE=1' --change 'CMD ["sleep", "infinity"]')
if [ -f "$lang_dir/env" ]; then
    while IFS= read -r line; do [ -n "$line" ] && changes+=(--change "ENV $line"); done < "$lang_dir/env"
fi
tar -C "$root" -c . | docker import "${changes[@]}" - "$tag" >&2
