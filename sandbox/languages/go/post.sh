#!/usr/bin/env bash
# golang-1.21-go installs its commands under /usr/lib/go-1.21/bin only (bookworm's golang-go,
# which links /usr/bin/go, would pull in Go 1.19): link them onto PATH.
#
# Since Go 1.20 the standard library ships uncompiled, so every fresh sandbox compiled (and
# vetted) it again: about 6 to 13 s of each grading. A build cache warmed here on the standard
# packages the exercises import is kept read-only at /usr/local/lib/dgm-go-cache (not under
# /opt/dgm, a tmpfs in the sandbox); the test command copies it into the sandbox's own writable
# GOCACHE first. Same toolchain, path and environment as at grading (the `env` file), so the
# cache keys match.
set -euo pipefail
root=$1
for tool in go gofmt; do ln -sfn "/usr/lib/go-1.21/bin/$tool" "$root/usr/local/bin/$tool"; done
warm=$(mktemp -d "$root/tmp/dgm-go-warm.XXXXXX")
rel=${warm#"$root"}
cat > "$warm/go.mod" <<'MOD'
module warm

go 1.21
MOD
cat > "$warm/warm.go" <<'GO'
package warm

import (
	_ "bufio"
	_ "bytes"
	_ "container/heap"
	_ "container/list"
	_ "crypto/rand"
	_ "encoding/json"
	_ "errors"
	_ "fmt"
	_ "io"
	_ "log"
	_ "math"
	_ "math/big"
	_ "math/bits"
	_ "math/rand"
	_ "os"
	_ "reflect"
	_ "regexp"
	_ "runtime"
	_ "slices"
	_ "sort"
	_ "strconv"
	_ "strings"
	_ "sync"
	_ "text/template"
	_ "time"
	_ "unicode"
	_ "unicode/utf8"
)
GO
cat > "$warm/warm_test.go" <<'GO'
package warm

import "testing"

func TestWarm(t *testing.T) {}
GO
env_args=()
while IFS= read -r line; do [ -n "$line" ] && env_args+=("$line"); done < "$(dirname "$0")/env"
mount -t proc proc "$root/proc"           # go finds its GOROOT through /proc/self/exe
trap 'umount "$root/proc" 2>/dev/null || true' EXIT
chroot "$root" env -i PATH=/usr/local/bin:/usr/bin:/bin HOME=/tmp "${env_args[@]}" GOCACHE=/usr/local/lib/dgm-go-cache \
    sh -c "cd $rel && go test -count=1 . >/dev/null"
umount "$root/proc"
rm -rf "$warm" "$root/tmp/go"
chmod -R a+rX "$root/usr/local/lib/dgm-go-cache"
