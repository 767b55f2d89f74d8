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
  [chromium]=chromium
  [tshark]=tshark
  [tcpdump]=tcpdump # capture tests (capture/interop_test.go)
  # interop matrix (interop_matrix_test.go); one command per package:
  # gnutls-bin also has gnutls-serv, libnss3-tools selfserv, certutil and
  # pk12util, the JDK java.
  [gnutls-cli]=gnutls-bin
  [tstclnt]=libnss3-tools
  [javac]=openjdk-17-jdk-headless
  [python3]=python3
  [node]=nodejs
  # the reference for tlsflow probe (cmd/tlsflow/probe_reference_test.go);
  # Debian's testssl.sh package installs the command as "testssl".
  [testssl]=testssl.sh
)
missing=()
for cmd in "${!peers[@]}"; do
  command -v "$cmd" >/dev/null 2>&1 || missing+=("${peers[$cmd]}")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "test.sh: installing ${missing[*]}"
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  # wireshark-common (tshark) asks whether non-root users may capture:
  # answer "no" up front so the install never waits at a prompt.
  echo "wireshark-common wireshark-common/install-setuid boolean false" | $sudo debconf-set-selections
  $sudo apt-get update -qq
  # Only what is missing, nothing it merely recommends (systemd, avahi,
  # printer helpers...), and nothing already installed is upgraded.
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends --no-upgrade "${missing[@]}"
fi

if [ -n "$(gofmt -l .)" ]; then
  echo "test.sh: gofmt would change:"; gofmt -l .; exit 1
fi
go vet ./...
go test -race -count=1 -timeout 20m "$@" ./...
# The second crypto provider (provider/openssl, libcrypto from the openssl
# package above). The internal packages already test every primitive user
# with both providers (internal/providertest); here the packages whose tests
# run whole connections on the process default run again with the OpenSSL
# provider as that default: the tlsflow package (crypto/tls, OpenSSL, GnuTLS,
# NSS... interop, attacks, resumption, 0-RTT), tlshttp, ftps, trace and the
# commands. With CI=true a libcrypto that does not load fails the run.
if [ $# -eq 0 ]; then
  TLSFLOW_PROVIDER=openssl go test -race -count=1 -timeout 20m . ./tlshttp ./ftps ./trace ./cmd/...
fi
# Tests that need more goroutines than the race detector allows (8,000)
# are built without it (//go:build !race) and run here.
if [ $# -eq 0 ]; then
  go test -count=1 -timeout 10m -run 'TestTenThousandConnections' .
fi

# A short run of every fuzz target, so CI exercises each one briefly (the
# long runs are done by hand, see internal/handshake/fuzz_test.go). The
# targets are listed on purpose: a target missing here, or listed but gone
# from the code, stops the script.
if [ $# -eq 0 ]; then
  fuzz_targets=(
    ./internal/wire:FuzzClientHello ./internal/wire:FuzzServerHello
    ./internal/wire:FuzzCertificate ./internal/wire:FuzzCertificate13
    ./internal/wire:FuzzCertificateRequest ./internal/wire:FuzzServerKeyExchange
    ./internal/wire:FuzzNewSessionTicket13 ./internal/wire:FuzzMessages
    ./internal/wire:FuzzExtensions ./internal/wire:FuzzBuilderMatchesCryptobyte
    ./internal/wire:FuzzImportedIdentity ./internal/wire:FuzzECH ./internal/wire:FuzzRawPublicKeyCertificate12
    ./internal/record:FuzzReader ./internal/record:FuzzHandshakeBuffer
    ./internal/handshake:FuzzServer12 ./internal/handshake:FuzzClient12
    ./internal/handshake:FuzzServer13 ./internal/handshake:FuzzClient13
    ./internal/handshake:FuzzServerResumption12 ./internal/handshake:FuzzClientResumption12
    ./internal/handshake:FuzzServerResumption13 ./internal/handshake:FuzzClientResumption13
    ./internal/handshake:FuzzPostHandshake13 ./internal/handshake:FuzzECHInner
    ./trace:FuzzReadJSONLines
    ./capture:FuzzRead
  )
  listed=$(printf '%s\n' "${fuzz_targets[@]}" | sort)
  found=$(grep -rEo --include='*_test.go' '^func Fuzz[A-Za-z0-9_]+' . | sed -E 's|/[^/]*:func |:|' | sort)
  if [ "$listed" != "$found" ]; then
    echo "test.sh: fuzz targets in the code (<) and in test.sh (>) differ:"
    diff <(echo "$found") <(echo "$listed") || true
    exit 1
  fi
  fuzzlog=$(mktemp)
  trap 'rm -f "$fuzzlog"' EXIT
  # failing inputs go test has written for a target
  saved_inputs() { if [ -d "$1" ]; then find "$1" -type f | wc -l; else echo 0; fi; }
  for target in "${fuzz_targets[@]}"; do
    pkg=${target%%:*} name=${target#*:}
    before=$(saved_inputs "$pkg/testdata/fuzz/$name")
    if go test -run '^$' -fuzz "^$name\$" -fuzztime 8s -fuzzminimizetime 3s "$pkg" 2>&1 | tee "$fuzzlog"; then
      continue
    fi
    after=$(saved_inputs "$pkg/testdata/fuzz/$name")
    # Go before 1.27 can fail a fuzz run that found nothing with "context
    # deadline exceeded" when -fuzztime ends (golang/go#75804): no new
    # crasher and that message alone is the toolchain's flake, not ours.
    if [ "$after" -eq "$before" ] && grep -q '^    context deadline exceeded$' "$fuzzlog"; then
      echo "test.sh: $name: ignoring the fuzz coordinator's deadline race (golang/go#75804); no crasher was found"
      continue
    fi
    [ "$after" -eq "$before" ] || echo "test.sh: $name: the failing input is in $pkg/testdata/fuzz/$name"
    exit 1
  done
fi
