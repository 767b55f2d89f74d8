#!/usr/bin/env bash
# The one test command, for a fresh machine and for CI: install the peers the
# interop tests talk to (Debian packages), then run vet and the tests with the
# race detector. Extra arguments go to "go test" (e.g. ./test.sh -run OpenSSL).
set -euo pipefail
cd "$(dirname "$0")"

# command → Debian package that provides it. A program outside a user's PATH
# (a daemon in /usr/sbin) is named by its full path: "command -v" takes both.
declare -A peers=(
  [openssl]=openssl
  [curl]=curl
  [/usr/sbin/vsftpd]=vsftpd
)
missing=()
for cmd in "${!peers[@]}"; do
  command -v "$cmd" >/dev/null 2>&1 || missing+=("${peers[$cmd]}")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "test.sh: installing ${missing[*]}"
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}"
fi

if [ -n "$(gofmt -l .)" ]; then
  echo "test.sh: gofmt would change:"; gofmt -l .; exit 1
fi
go vet ./...
go test -race -count=1 -timeout 20m "$@" ./...
# Tests that need more goroutines than the race detector allows (8,000)
# are built without it (//go:build !race) and run here.
if [ $# -eq 0 ]; then
  go test -count=1 -timeout 10m -run 'TestTenThousandConnections' .
fi
