#!/usr/bin/env bash
# Cargo reads /.cargo/config.toml for every project below /: crates.io is replaced by the
# directory of crate sources Debian's librust-*-dev packages install, so builds need no network.
set -euo pipefail
root=$1
mkdir -p "$root/.cargo"
cat > "$root/.cargo/config.toml" <<'TOML'
[source.crates-io]
replace-with = "debian"

[source.debian]
directory = "/usr/share/cargo/registry"

[net]
offline = true
TOML
