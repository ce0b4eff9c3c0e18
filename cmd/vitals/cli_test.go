package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"runtime/debug"
	"strings"
	"testing"
)

// TestVersion runs the built binary: module version, VCS revision (the
// test builds inside the repository's git checkout) and Go version.
func TestVersion(t *testing.T) {
	code, out, errOut := runBin(t, nil, nil, "version")
	if code != 0 || errOut != "" {
		t.Fatalf("exit %d, stderr %q", code, errOut)
	}
	if !strings.HasPrefix(out, "vitals ") || !strings.Contains(out, runtime.Version()) || !strings.Contains(out, runtime.GOOS+"/"+runtime.GOARCH) {
		t.Errorf("version line %q lacks the module or Go version", out)
	}
	// What the go command stamped (it stamps no VCS revision in some
	// checkouts, e.g. this git worktree) must be what is printed.
	meta, err := exec.Command("go", "version", "-m", vitalsBin(t)).Output()
	if err != nil {
		t.Fatal(err)
	}
	if m := regexp.MustCompile(`vcs.revision=([0-9a-f]{12})`).FindSubmatch(meta); m != nil && !strings.Contains(out, "revision "+string(m[1])) {
		t.Errorf("version line %q lacks the stamped revision %s", out, m[1])
	}
	if code, _, _ := runBin(t, nil, nil, "version", "extra"); code != exitUsage {
		t.Errorf("version extra: exit %d, want %d", code, exitUsage)
	}
}

func TestVersionLine(t *testing.T) {
	bi := &debug.BuildInfo{GoVersion: "go1.27.3", Main: debug.Module{Path: "github.com/govitals/vitals", Version: "v1.2.3"},
		Settings: []debug.BuildSetting{{Key: "vcs.revision", Value: "0123456789abcdef0123"}, {Key: "vcs.modified", Value: "true"}, {Key: "vcs.time", Value: "2026-12-01T10:00:00Z"}}}
	want := "vitals v1.2.3 (revision 0123456789ab+modified, 2026-12-01T10:00:00Z) go1.27.3 " + runtime.GOOS + "/" + runtime.GOARCH
	if got := versionLine(bi, true); got != want {
		t.Errorf("got  %q\nwant %q", got, want)
	}
	if got := versionLine(nil, false); !strings.HasPrefix(got, "vitals (unknown) "+runtime.Version()) {
		t.Errorf("no build info: %q", got)
	}
}

// TestHelpAndUsageCodes holds every command to one convention: -h and
// "help CMD" print the same usage and exit 0; a bad flag exits 64, distinct
// from doctor's 1 and 2; an unknown command too; "vitals -h" lists the codes.
func TestHelpAndUsageCodes(t *testing.T) {
	code, out, _ := runBin(t, nil, nil, "-h")
	if code != 0 {
		t.Errorf("vitals -h: exit %d", code)
	}
	for _, want := range []string{"doctor", "demo", "stacks", "gctrace", "version", "exit codes:", "64  usage error", "2   doctor: failures"} {
		if !strings.Contains(out, want) {
			t.Errorf("vitals -h lacks %q:\n%s", want, out)
		}
	}
	for name := range commands {
		t.Run(name, func(t *testing.T) {
			hc, hout, herr := runBin(t, nil, nil, name, "-h")
			gc, gout, gerr := runBin(t, nil, nil, "help", name)
			if hc != 0 || gc != 0 {
				t.Errorf("%s -h: exit %d; help %s: exit %d; want 0", name, hc, name, gc)
			}
			if hout+herr != gout+gerr || !strings.Contains(herr, "usage: vitals "+name) {
				t.Errorf("help %s differs from %s -h, or is not its usage:\n%s\n---\n%s", name, name, gout+gerr, hout+herr)
			}
			if c, _, e := runBin(t, nil, nil, name, "--no-such-flag"); c != exitUsage || !strings.Contains(e, "no-such-flag") {
				t.Errorf("%s --no-such-flag: exit %d, stderr %q; want %d", name, c, e, exitUsage)
			}
		})
	}
	if c, _, e := runBin(t, nil, nil, "frobnicate"); c != exitUsage || !strings.Contains(e, `unknown command "frobnicate"`) {
		t.Errorf("unknown command: exit %d, stderr %q", c, e)
	}
	if c, _, e := runBin(t, nil, nil, "help", "frobnicate"); c != exitUsage || !strings.Contains(e, "unknown command") {
		t.Errorf("help unknown: exit %d, stderr %q", c, e)
	}
}

// TestSelfCommand: the demo prints a doctor command line that works, not
// "vitals" when no vitals on $PATH is this binary.
func TestSelfCommand(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	got := selfCommand()
	if got == "vitals" {
		t.Fatalf("selfCommand() = vitals with no vitals on $PATH")
	}
	exe, _ := os.Executable()
	if _, err := os.Stat(got); err != nil && got != "go run github.com/govitals/vitals/cmd/vitals" {
		t.Errorf("selfCommand() = %q, neither a path that exists nor the go run line (test binary %s)", got, exe)
	}
	// On $PATH as "vitals": the short name.
	dir := t.TempDir()
	if err := os.Symlink(exe, filepath.Join(dir, "vitals")); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", dir)
	if got := selfCommand(); got != "vitals" {
		t.Errorf("with this binary on $PATH as vitals: %q", got)
	}
}
