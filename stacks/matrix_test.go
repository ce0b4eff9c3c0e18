package stacks

import (
	"bufio"
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// matrixLabels are the label sets testdata/gen.go's labelProg runs
// goroutines under (keys and values as the program sets them).
var matrixLabels = []map[string]string{
	{"job": "sync", "tenant": "acme"},
	{"path": "/v1/users.list_all"},
	{"key with space": "value with space"},
	{"comma,key": "a, b", "colon:key": "x: y"},
	{"braces": "{}[]", "quote": `say "hi"`, "back": `a\b`},
	{"unicode": "café 日本 🚀", "\u202e": "rtl"},
	{"ctl": "\x1b[31mred\x07\x00\t\n", "invalid": "\xff\xfe"},
	{"empty": "", "": "emptykey"},
	{"fffd": "\ufffd", "del": "\x7f"},
}

func matrixFiles(t testing.TB) []string {
	t.Helper()
	m, err := filepath.Glob("testdata/matrix/*")
	if err != nil {
		t.Fatal(err)
	}
	// 3 toolchain/module pairs × 14 variants.
	if len(m) < 42 {
		t.Fatalf("only %d matrix fixtures; regenerate with go run gen.go -matrix", len(m))
	}
	return m
}

// matrixHead returns the "# gen.go: …" line that records how a fixture
// was made.
func matrixHead(t *testing.T, b []byte) string {
	t.Helper()
	line, _, _ := bytes.Cut(b, []byte("\n"))
	if !bytes.HasPrefix(line, []byte("# gen.go: go1.")) {
		t.Fatalf("fixture does not record its toolchain: %q", line)
	}
	return string(line)
}

// countHeaders counts lines that start like a goroutine header.
func countHeaders(b []byte) int {
	n := 0
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		if headerLike(bytes.TrimSuffix(sc.Bytes(), []byte("\r"))) {
			n++
		}
	}
	return n
}

// TestMatrix reads every dump the generator made under each toolchain,
// module version, label setting and GOTRACEBACK level, and checks it
// against what the program did: no goroutine lost, every label set read
// back exactly where the runtime printed labels.
func TestMatrix(t *testing.T) {
	for _, f := range matrixFiles(t) {
		name := filepath.Base(f)
		t.Run(name, func(t *testing.T) {
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			d, err := Parse(bytes.NewReader(b))
			if err != nil {
				t.Fatal(err)
			}
			if p := d.Stats.Problems(); len(p) > 0 {
				t.Errorf("problems: %q", p)
			}
			proto := strings.HasSuffix(name, ".pb.gz")
			head := ""
			debug1 := strings.Contains(name, "debug1")
			if !proto {
				head = matrixHead(t, b)
			}
			switch {
			case debug1:
				if d.Stats.Profiles != 1 || d.Stats.StatedTotal != d.Stats.ProfileTotal || d.Stats.StatedTotal < 12 {
					t.Errorf("debug=1 totals: %+v", d.Stats)
				}
			case !proto:
				if n := countHeaders(b); n != len(d.Goroutines) || n == 0 {
					t.Errorf("%d goroutines parsed, %d header lines", len(d.Goroutines), n)
				}
			}
			go126 := strings.HasPrefix(name, "go1.26")
			labelled := proto || strings.Contains(name, "debug1") ||
				strings.Contains(head, "tracebacklabels=1") ||
				strings.Contains(name, "_mod1.27_") && !strings.Contains(head, "tracebacklabels=0")
			switch {
			case strings.Contains(name, "panic") && !strings.Contains(name, "repanic"):
				if !strings.HasPrefix(d.Reason, "panic: assignment to entry in nil map") {
					t.Errorf("reason %q", d.Reason)
				}
				// pprof.Do's deferred call restores the panicking
				// goroutine's labels before the runtime prints it.
				if g := d.Goroutines[0]; g.ID != 1 || len(g.Labels) > 0 {
					t.Errorf("panicking goroutine %d has labels %q", g.ID, g.Labels)
				}
				if strings.Contains(name, "system") || strings.Contains(name, "crash") {
					checkGP(t, d)
				}
				if strings.Contains(name, "single") {
					if len(d.Goroutines) != 1 || d.Goroutines[0].ID != 1 {
						t.Errorf("%d goroutines, want 1", len(d.Goroutines))
					}
					return
				}
			case strings.Contains(name, "repanic_same"):
				if d.Reason != "panic: first [recovered, repanicked]" {
					t.Errorf("reason %q", d.Reason)
				}
			case strings.Contains(name, "repanic"):
				if d.Reason != "panic: first [recovered]" {
					t.Errorf("reason %q", d.Reason)
				}
			case strings.Contains(name, "ancestors"):
				g := find(d, func(g *Goroutine) bool { return len(g.Ancestors) >= 3 })
				if g == nil {
					t.Fatal("no goroutine with 3 ancestors")
				}
				if g.Labels["job"] != "chain" {
					t.Errorf("chain labels %q", g.Labels)
				}
			case strings.Contains(name, "leaked"):
				n := 0
				for _, g := range d.Goroutines {
					if g.Leaked {
						n++
					}
				}
				if n < len(matrixLabels) {
					t.Errorf("%d leaked goroutines, want >= %d", n, len(matrixLabels))
				}
			case strings.Contains(name, "synctest"):
				g := find(d, func(g *Goroutine) bool { return g.State == "sleep" })
				if g == nil || !g.Durable || g.Bubble == 0 || g.Labels["k v"] != "x,y" {
					t.Errorf("durable labelled sleeper: %+v", g)
				}
				return
			}
			if strings.Contains(name, "_stack") || strings.Contains(name, "debug") {
				locked := find(d, func(g *Goroutine) bool { return g.Locked || hasFrame(g, "main.Locked") })
				if locked == nil {
					t.Fatal("no locked goroutine")
				}
				if labelled && locked.Labels["job"] != "locked" {
					t.Errorf("locked goroutine's labels %q", locked.Labels)
				}
				if !proto && !strings.Contains(name, "debug") && !locked.Locked {
					t.Error("main.Locked not locked to thread")
				}
			}
			for _, want := range matrixLabels {
				if go126 && !proto && !strings.Contains(name, "debug1") && want["invalid"] != "" {
					// Go 1.26's printquoted writes invalid UTF-8 as U+FFFD.
					want = map[string]string{"ctl": want["ctl"], "invalid": "\ufffd\ufffd"}
				}
				if proto && want["empty"] == "" && want[""] != "" {
					// The protobuf profile drops a label with an empty value.
					want = map[string]string{"": want[""]}
				}
				g := find(d, func(g *Goroutine) bool { return cmp.Equal(g.Labels, want) })
				if labelled != (g != nil) {
					t.Errorf("labels %q found: %v, want %v", want, g != nil, labelled)
				}
			}
			if !labelled {
				if g := find(d, func(g *Goroutine) bool { return len(g.Labels) > 0 }); g != nil {
					t.Errorf("labels where the runtime printed none: goroutine %d %q", g.ID, g.Labels)
				}
			}
			// The model written back reads the same.
			if d2 := roundTrip(t, d); !proto {
				if diff := cmp.Diff(d, d2, cmpDump); diff != "" {
					t.Errorf("round trip (-want +got):\n%s", diff)
				}
			}
		})
	}
}

// TestMatrixWriteDumpIsRuntimeText: WriteDump writes each goroutine
// header as the runtime printed it, labels included, in the form of the
// toolchain that printed it.
func TestMatrixWriteDumpIsRuntimeText(t *testing.T) {
	for _, f := range matrixFiles(t) {
		if !strings.Contains(f, "_stack") && !strings.Contains(f, "leaked") && !strings.Contains(f, "synctest") && !strings.Contains(f, "panic_system") {
			continue
		}
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		d, err := Parse(bytes.NewReader(b))
		if err != nil {
			t.Fatal(err)
		}
		var out bytes.Buffer
		if err := WriteDump(&out, d); err != nil {
			t.Fatal(err)
		}
		want := headerLines(b)
		got := headerLines(out.Bytes())
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("%s: headers written back differ (-runtime +WriteDump):\n%s", filepath.Base(f), diff)
		}
	}
}

func headerLines(b []byte) []string {
	var out []string
	for _, l := range strings.Split(string(b), "\n") {
		if headerLike([]byte(l)) {
			out = append(out, l)
		}
	}
	return out
}
