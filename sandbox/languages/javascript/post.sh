#!/usr/bin/env bash
# jest, babel and the Exercism babel preset, installed once under /opt/dgm-js; the grader links
# /opt/dgm-js/node_modules into each workspace. Uses the host's npm (the npm registry).
set -euo pipefail
root=$1
mkdir -p "$root/opt/dgm-js"
cp "$(dirname "$0")/package.json" "$root/opt/dgm-js/package.json"
npm install --prefix "$root/opt/dgm-js" --no-audit --no-fund --ignore-scripts --loglevel=error >&2
