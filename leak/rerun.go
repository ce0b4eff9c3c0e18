package leak

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/govitals/vitals/stacks"
)

// rerunEnv marks the child of a rerun and names the file it writes its
// attribution to. A child never reruns (the guard against recursion).
const rerunEnv = "VITALS_LEAK_RERUN"

// rerunAncestors is N in GODEBUG=tracebackancestors=N for the rerun: how
// many go statements up the chain a goroutine remembers. Each level costs
// a copy of the creating stack's PCs at every go statement of the rerun.
const rerunAncestors = 32

// Bounds of the rerun's duration when [Rerun] does not set one: twice the
// tests' own duration plus rerunSlack, at most rerunMax.
const (
	rerunSlack = 10 * time.Second
	rerunMax   = 2 * time.Minute
)

// rerunResult is what the child writes: the blame of every goroutine its
// own check found, keyed by stack.
type rerunResult struct {
	Goroutines []rerunEntry `json:"goroutines"`
	Err        string       `json:"err,omitempty"`
}

type rerunEntry struct {
	Key    string `json:"key"`
	Test   string `json:"test,omitempty"`
	Via    string `json:"via,omitempty"`
	Origin string `json:"origin,omitempty"`
}

// stackKey identifies a stack across two runs of the same binary:
// function, file and line of every frame and of the creator. Goroutine
// IDs and argument values differ between runs; these do not.
func stackKey(frames []stacks.Frame, createdBy *stacks.Frame) string {
	var b strings.Builder
	w := func(f stacks.Frame) {
		b.WriteString(f.Func)
		b.WriteByte(' ')
		b.WriteString(f.File)
		b.WriteByte(':')
		b.WriteString(strconv.Itoa(f.Line))
		b.WriteByte('\n')
	}
	for _, f := range frames {
		w(f)
	}
	if createdBy != nil {
		b.WriteString("created by ")
		w(*createdBy)
	}
	return b.String()
}

// rerunChild is VerifyTestMain in the rerun's child: run the tests, check,
// write every leaked goroutine's blame to path, exit with the tests' code.
func rerunChild(m TestingM, c *config, path string) int {
	// Processes the tests start are not part of the rerun.
	os.Unsetenv(rerunEnv)
	code := m.Run()
	var res rerunResult
	ls, err := c.findLeaks(curID(), "")
	if err != nil {
		res.Err = err.Error()
	}
	for _, l := range ls {
		res.Goroutines = append(res.Goroutines, rerunEntry{
			Key:  stackKey(l.g.Frames, l.g.CreatedBy),
			Test: l.blame.test, Via: l.blame.via, Origin: l.blame.origin,
		})
	}
	b, _ := json.Marshal(res)
	if werr := os.WriteFile(path, b, 0o600); werr != nil {
		fmt.Fprintf(os.Stderr, "leak: rerun: %v\n", werr)
		return 2
	}
	return code
}

// needsRerun reports whether e has goroutines a rerun could name a test
// for: no test and no known origin.
func needsRerun(e *Error) bool {
	for _, g := range e.Groups {
		if g.Test == "" && g.origin == "" {
			return true
		}
	}
	return false
}

// noRerunFlags are -test.* flags whose value is a file the parent writes
// (profiles, coverage, the go command's test log): the child must not
// overwrite them.
var noRerunFlags = map[string]bool{
	"test.coverprofile": true, "test.cpuprofile": true, "test.memprofile": true,
	"test.blockprofile": true, "test.mutexprofile": true, "test.trace": true,
	"test.testlogfile": true, "test.outputdir": true, "test.gocoverdir": true,
	"test.fuzzcachedir": true, "test.artifacts": true,
}

// rerunArgs returns the child's arguments: the parent's, without flags
// that name output files. ok is false when the run cannot be repeated
// (fuzzing, or a fuzz worker).
func rerunArgs(args []string) (out []string, ok bool) {
	for i := 0; i < len(args); i++ {
		a := args[i]
		name := strings.TrimLeft(a, "-")
		name, _, hasValue := strings.Cut(name, "=")
		if !strings.HasPrefix(a, "-") || !strings.HasPrefix(name, "test.") {
			out = append(out, a)
			continue
		}
		if name == "test.fuzz" || name == "test.fuzzworker" {
			return nil, false
		}
		if noRerunFlags[name] {
			if !hasValue && i+1 < len(args) {
				i++
			}
			continue
		}
		out = append(out, a)
	}
	return out, true
}

// godebugWith appends setting to a GODEBUG value.
func godebugWith(cur, setting string) string {
	if cur == "" {
		return setting
	}
	return cur + "," + setting
}

// rerun runs the test binary again, with ancestor traces on, and
// attributes e's unnamed groups from the child's report. It returns the
// sentence the report shows about it.
func rerun(ctx context.Context, c *config, e *Error, limit time.Duration) string {
	exe, err := os.Executable()
	if err != nil {
		return markRerunFailed(e, fmt.Sprintf("rerun not possible: %v", err))
	}
	args, ok := rerunArgs(os.Args[1:])
	if !ok {
		return markRerunFailed(e, "no rerun while fuzzing")
	}
	dir, err := os.MkdirTemp("", "vitals-leak-rerun-")
	if err != nil {
		return markRerunFailed(e, fmt.Sprintf("rerun not possible: %v", err))
	}
	defer os.RemoveAll(dir)
	path := dir + "/result.json"

	ctx, cancel := context.WithTimeout(ctx, limit)
	defer cancel()
	cmd := exec.CommandContext(ctx, exe, args...)
	env := os.Environ()
	env = slices.DeleteFunc(env, func(kv string) bool {
		return strings.HasPrefix(kv, "GODEBUG=") || strings.HasPrefix(kv, "GOCOVERDIR=") || strings.HasPrefix(kv, rerunEnv+"=")
	})
	env = append(env,
		"GODEBUG="+godebugWith(os.Getenv("GODEBUG"), "tracebackancestors="+strconv.Itoa(rerunAncestors)),
		rerunEnv+"="+path)
	if os.Getenv("GOCOVERDIR") != "" {
		env = append(env, "GOCOVERDIR="+dir) // keep the parent's coverage counts its own
	}
	cmd.Env = env
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	cmd.WaitDelay = time.Second
	start := c.now()
	runErr := cmd.Run()
	took := c.now().Sub(start).Round(10 * time.Millisecond)
	what := fmt.Sprintf("reran the tests with GODEBUG=tracebackancestors=%d (%v)", rerunAncestors, took)
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return markRerunFailed(e, fmt.Sprintf("%s: stopped after the %v limit", what, limit))
	}
	b, err := os.ReadFile(path)
	if err != nil {
		msg := fmt.Sprintf("%s: it wrote no result (%v)", what, runErr)
		if tail := lastLine(out.Bytes()); tail != "" {
			msg += ": " + tail
		}
		return markRerunFailed(e, msg)
	}
	var res rerunResult
	if err := json.Unmarshal(b, &res); err != nil {
		return markRerunFailed(e, fmt.Sprintf("%s: unreadable result: %v", what, err))
	}
	if res.Err != "" {
		return markRerunFailed(e, fmt.Sprintf("%s: its check failed: %s", what, res.Err))
	}
	reproduced, unknown, named := attribute(e, res)
	sortGroups(e.Groups)
	if reproduced == 0 {
		return fmt.Sprintf("%s to name the tests: it did not reproduce the %d unattributed %s", what, unknown, plural(unknown, "goroutine"))
	}
	return fmt.Sprintf("%s to name the tests: reproduced %d of %d unattributed %s, named the test for %d",
		what, reproduced, unknown, plural(unknown, "goroutine"), named)
}

// attribute names the tests of e's unattributed groups from the rerun's
// result, matching stacks, and marks what it cannot name with why. It
// returns how many goroutines were unattributed, reproduced and named.
func attribute(e *Error, res rerunResult) (reproduced, unknown, named int) {
	byKey := map[string][]rerunEntry{}
	for _, r := range res.Goroutines {
		byKey[r.Key] = append(byKey[r.Key], r)
	}
	for _, g := range e.Groups {
		if g.Test != "" || g.origin != "" {
			continue
		}
		unknown += g.Count
		rs, ok := byKey[stackKey(g.Frames, g.CreatedBy)]
		if !ok {
			g.origin = originNotReproduced
			continue
		}
		reproduced += g.Count
		var tests, vias []string
		for _, r := range rs {
			switch {
			case r.Test != "":
				if !slices.Contains(tests, r.Test) {
					tests = append(tests, r.Test)
					vias = append(vias, r.Via)
				}
			case r.Origin != "" && g.origin == "":
				g.origin = r.Origin
			}
		}
		if len(tests) == 0 {
			if g.origin == "" {
				g.origin = originNoTest
			}
			continue
		}
		named += g.Count
		g.origin = ""
		if len(tests) == 1 {
			g.Via = vias[0]
		}
		slices.Sort(tests)
		g.Test = strings.Join(tests, ", ")
		g.Rerun = true
	}
	return reproduced, unknown, named
}

// Origins a rerun adds.
const (
	originNotReproduced = "not-reproduced"
	originNoTest        = "no-test"
	originRerunFailed   = "rerun-failed"
)

func markRerunFailed(e *Error, msg string) string {
	for _, g := range e.Groups {
		if g.Test == "" && g.origin == "" {
			g.origin = originRerunFailed
		}
	}
	return msg
}

func lastLine(b []byte) string {
	b = bytes.TrimSpace(b)
	if i := bytes.LastIndexByte(b, '\n'); i >= 0 {
		b = b[i+1:]
	}
	if len(b) > 200 {
		b = b[:200]
	}
	return string(b)
}
