#!/usr/bin/env bash
# Runs every test of vitals on a machine that has only Go, on both supported
# toolchains: installs the external programs the tests drive for real
# (Prometheus and promtool, headless Chromium) and the Go 1.27 toolchain
# (through the module proxy), then vets, lints and tests every module.
#
#   ./scripts/test.sh                 everything (about 15-25 min on 2 cores)
#   GO_TOOLCHAINS=go1.27.3 ./scripts/test.sh   one toolchain only
#
# The main module's suite runs with -race on the newest toolchain (what users
# run first) and without -race on the oldest supported one.
# With CI=true the tests treat a missing external program as a failure.
set -euo pipefail
cd "$(dirname "$0")/.."

# The supported toolchains: the oldest first. "local" is the go on PATH,
# which must be a 1.26.x; the others come from the module proxy.
GO_TOOLCHAINS=${GO_TOOLCHAINS:-"local go1.27.3"}
RACE_TOOLCHAIN=${RACE_TOOLCHAIN:-go1.27.3}

start=$(date +%s)
comparisons=0
steps=()

elapsed() { local s=$(($(date +%s) - start)); printf '%dm%02ds' $((s / 60)) $((s % 60)); }

# step NAME CMD...: runs CMD, printing a heartbeat every 30 s so a long,
# quiet step (building staticcheck, the race suite) never looks hung.
step() {
	local name=$1; shift
	echo "== [$(elapsed)] $name"
	local t0=$(date +%s)
	("$@") &
	local pid=$!
	(while sleep 30; do echo "   ... still running: $name ($(($(date +%s) - t0)) s)"; done) &
	local beat=$!
	local rc=0
	wait "$pid" || rc=$?
	kill "$beat" 2>/dev/null; wait "$beat" 2>/dev/null || true
	steps+=("$name $(($(date +%s) - t0))s")
	if ((rc != 0)); then
		echo "FAILED: $name (exit $rc) after $(elapsed)"
		exit "$rc"
	fi
}

# gotest TOOLCHAIN ARGS...: go test with the toolchain, counting packages.
gotest() {
	local tc=$1; shift
	local log
	log=$(mktemp)
	set +e
	GOTOOLCHAIN=$tc go test "$@" 2>&1 | tee "$log" | grep --line-buffered -v '^?'
	local st=("${PIPESTATUS[@]}")
	set -e
	local ok fail
	ok=$(grep -c '^ok' "$log" || true)
	fail=$(grep -c $'^FAIL\t' "$log" || true)
	echo "   $tc: $ok packages ok, $fail failed"
	echo "$ok $fail" >>"$counts"
	rm -f "$log"
	return "${st[0]}"
}
counts=$(mktemp)

need=()
command -v prometheus >/dev/null 2>&1 || need+=(prometheus)
command -v chromium >/dev/null 2>&1 || need+=(chromium chromium-driver)
if ((${#need[@]})); then
	if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
		install() {
			apt-get update -qq
			DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
		}
		step "installing ${need[*]} (apt-get)" install
	else
		echo "== not root or no apt-get: tests that need ${need[*]} will skip (fail with CI=true)"
	fi
fi

export PATH="$(go env GOPATH)/bin:$PATH"
localver=$(GOTOOLCHAIN=local go env GOVERSION)
tcs=()
for tc in $GO_TOOLCHAINS; do
	[ "$tc" = local ] && tc=$localver
	tcs+=("$tc")
done
fetch() { for tc in "${tcs[@]}"; do GOTOOLCHAIN=$tc go version; done; }
step "toolchains: ${tcs[*]}" fetch

fmtcheck() {
	local unformatted
	unformatted=$(gofmt -l $(git ls-files '*.go' 2>/dev/null || find . -name '*.go'))
	if [ -n "$unformatted" ]; then
		echo "gofmt needed:"; echo "$unformatted"; return 1
	fi
}
step "gofmt" fmtcheck

# go vet with the oldest toolchain, whose compiled packages the plain test
# run below reuses; go test runs vet's own checks on every toolchain.
vet() {
	GOTOOLCHAIN=${tcs[0]} go vet ./...
	(cd bench && GOTOOLCHAIN=${tcs[0]} go vet ./...)
}
step "go vet (${tcs[0]})" vet

staticcheck() {
	go run honnef.co/go/tools/cmd/staticcheck@v0.8.2 ./...
	(cd bench && go run honnef.co/go/tools/cmd/staticcheck@v0.8.2 ./...)
}
step "staticcheck (main and bench modules)" staticcheck

vitalsvet() {
	local vetdir
	vetdir=$(mktemp -d)
	go build -o "$vetdir/vitals-vet" ./cmd/vitals-vet
	go vet -vettool="$vetdir/vitals-vet" ./...
}
step "vitals-vet: vitals' own analyzers over vitals" vitalsvet

# Screenshots and other artifacts of the browser tests land here.
export VITALS_ARTIFACTS="${VITALS_ARTIFACTS:-$PWD/.artifacts}"
mkdir -p "$VITALS_ARTIFACTS"
# The analyzers (passes/..., cmd/vitals-vet) are single-goroutine type
# checking: under -race they only get 3-5x slower, so they run plain.
analyzers=$(go list ./passes/... ./cmd/vitals-vet)
others=$(go list ./... | grep -v -e /passes -e /cmd/vitals-vet)
for tc in "${tcs[@]}"; do
	if [ "$tc" = "$RACE_TOOLCHAIN" ]; then
		step "go test -race, all but the analyzers ($tc)" gotest "$tc" -race -timeout 25m $others
		step "go test, the analyzers ($tc)" gotest "$tc" -timeout 25m $analyzers
	else
		step "go test ./... ($tc)" gotest "$tc" -timeout 25m ./...
	fi
done

# Go's own goroutine leak detector: an experiment in 1.26, standard in 1.27.
detector() {
	for tc in "${tcs[@]}"; do
		local exp=
		case "$tc" in go1.26*) exp=goroutineleakprofile ;; esac
		local out
		out=$(GOTOOLCHAIN=$tc GOEXPERIMENT=$exp go test -count=1 -run 'TestRuntimeDetector' -v ./leak 2>&1) || { echo "$out"; return 1; }
		local want=TestRuntimeDetectorInProcess
		# 1.27's standard profile needs no experiment, so the child-process
		# test must run there too rather than skip.
		[ -z "$exp" ] && want="$want TestRuntimeDetectorSubprocess"
		for t in $want; do
			echo "$out" | grep -q -- "--- PASS: $t" || { echo "$out"; echo "$t did not run on $tc"; return 1; }
		done
		echo "   $tc (GOEXPERIMENT=$exp): $(echo "$out" | tail -1)"
	done
}
step "leak: goroutines Go's own detector proved leaked" detector

stdvet() {
	local vetlog
	vetlog=$(mktemp)
	if ! VITALS_VET_LONG=1 go test -count=1 -run 'TestCommand/std' -v ./cmd/vitals-vet >"$vetlog" 2>&1; then
		cat "$vetlog"; return 1
	fi
	grep -E 'finding|packages in|^ok' "$vetlog" | tail -5
}
step "vitals-vet over the standard library (no crash; every finding logged)" stdvet

plugin() {
	cd plugin/golangci
	go vet ./...
	gotest "${tcs[0]}" -race ./...
}
step "plugin/golangci module" plugin

benchonce() {
	cd bench
	local log
	log=$(mktemp)
	set +e
	GOTOOLCHAIN=${tcs[-1]} go test -timeout 15m -run . -bench . -benchtime 1x ./... 2>&1 | tee "$log" | grep --line-buffered -E '^(ok|FAIL|---|panic)'
	local st=("${PIPESTATUS[@]}")
	set -e
	grep -c '^Benchmark' "$log" >"$comparisons_file" || true
	rm -f "$log"
	return "${st[0]}"
}
comparisons_file=$(mktemp)
step "bench module: every comparison once (${tcs[-1]})" benchonce
comparisons=$(cat "$comparisons_file")

read -r passed failed < <(awk '{p+=$1; f+=$2} END {print p+0, f+0}' "$counts")
echo
echo "== steps"
printf '   %s\n' "${steps[@]}"
echo "toolchains ${tcs[*]}; $comparisons benchmark comparisons ran once; wall time $(elapsed)"
echo "vitals: $passed passed, $failed failed"
