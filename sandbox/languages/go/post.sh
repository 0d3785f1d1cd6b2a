#!/usr/bin/env bash
# golang-1.21-go installs its commands under /usr/lib/go-1.21/bin only (bookworm's golang-go,
# which links /usr/bin/go, would pull in Go 1.19): link them onto PATH.
set -euo pipefail
root=$1
for tool in go gofmt; do ln -sfn "/usr/lib/go-1.21/bin/$tool" "$root/usr/local/bin/$tool"; done
