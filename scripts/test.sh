#!/usr/bin/env bash
# Runs every test of vitals on a machine that has only Go: installs the
# external programs the tests drive for real (Prometheus and promtool,
# headless Chromium), then vets, lints and tests both modules.
#
# With CI=true the tests treat a missing external program as a failure.
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
command -v prometheus >/dev/null 2>&1 || need+=(prometheus)
command -v chromium >/dev/null 2>&1 || need+=(chromium chromium-driver)
if ((${#need[@]})); then
	if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
		echo "== installing ${need[*]}"
		apt-get update -qq
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
	else
		echo "== not root or no apt-get: tests that need ${need[*]} will skip (fail with CI=true)"
	fi
fi

export PATH="$(go env GOPATH)/bin:$PATH"
echo "== gofmt"
unformatted=$(gofmt -l $(git ls-files '*.go' 2>/dev/null || find . -name '*.go'))
if [ -n "$unformatted" ]; then
	echo "gofmt needed:"; echo "$unformatted"; exit 1
fi

echo "== go vet"
go vet ./...
(cd bench && go vet ./...)

echo "== staticcheck"
go run honnef.co/go/tools/cmd/staticcheck@v0.8.2 ./...
(cd bench && go run honnef.co/go/tools/cmd/staticcheck@v0.8.2 ./...)

echo "== vitals-vet: vitals' own analyzers over vitals"
vetdir=$(mktemp -d)
go build -o "$vetdir/vitals-vet" ./cmd/vitals-vet
go vet -vettool="$vetdir/vitals-vet" ./...

echo "== go test -race (main module)"
# Screenshots and other artifacts of the browser tests land here.
export VITALS_ARTIFACTS="${VITALS_ARTIFACTS:-$PWD/.artifacts}"
mkdir -p "$VITALS_ARTIFACTS"
go test -race -timeout 20m ./...

echo "== leak: marking goroutines Go's own detector proved leaked (GOEXPERIMENT=goroutineleakprofile)"
out=$(GOEXPERIMENT=goroutineleakprofile go test -count=1 -run 'TestRuntimeDetectorInProcess' -v ./leak 2>&1) || { echo "$out"; exit 1; }
echo "$out" | grep -q -- '--- PASS: TestRuntimeDetectorInProcess' || { echo "$out"; echo "the runtime detector test did not run"; exit 1; }
echo "$out" | tail -1

echo "== vitals-vet over the standard library (no crash; every finding logged)"
vetlog=$(mktemp)
if ! VITALS_VET_LONG=1 go test -count=1 -run 'TestCommand/std' -v ./cmd/vitals-vet >"$vetlog" 2>&1; then
	cat "$vetlog"; exit 1
fi
grep -E 'finding|packages in|^ok' "$vetlog"

echo "== go test -race (plugin/golangci module)"
(cd plugin/golangci && go vet ./... && go test -race ./...)

echo "== go test (bench module: comparisons run once each)"
(cd bench && go test -timeout 10m -run . -bench . -benchtime 1x ./...)
