package main

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/govitals/vitals/stacks"
)

// TestStacksBinary runs the real vitals binary on files, as a user does.
func TestStacksBinary(t *testing.T) {
	dir := t.TempDir()
	bin := filepath.Join(dir, "vitals")
	if b, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, b)
	}
	file := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	run := func(t *testing.T, args ...string) (code int, stdout, stderr string) {
		t.Helper()
		cmd := exec.Command(bin, append([]string{"stacks"}, args...)...)
		var o, e bytes.Buffer
		cmd.Stdout, cmd.Stderr = &o, &e
		err := cmd.Run()
		code = 0
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		} else if err != nil {
			t.Fatal(err)
		}
		return code, o.String(), e.String()
	}

	// Issue 13, point 2: a block the parser cannot read is counted and
	// reported in every format and on stderr.
	t.Run("unparsed", func(t *testing.T) {
		dump := file("unparsed.txt", []byte("goroutine 1 [running]:\nmain.main()\n\t/a.go:1 +0x1\n\n"+
			"goroutine 2 gp=0xc0 m=1 [chan receive]:\nmain.f()\n\t/a.go:2 +0x1\n\n"+
			"goroutine 3 [select]:\nmain.g()\n\t/a.go:3 +0x1\n"))
		const warn = `1 goroutine block could not be parsed and was skipped: "goroutine 2 gp=0xc0 m=1 [chan receive]:"`
		code, out, errOut := run(t, dump)
		if code != 0 || !strings.Contains(out, "2 goroutines in 2 groups\nwarning: "+warn) {
			t.Errorf("text: exit %d\n%s", code, out)
		}
		if !strings.Contains(errOut, "vitals stacks: warning: "+dump+": "+warn) {
			t.Errorf("stderr: %q", errOut)
		}
		_, out, errOut = run(t, "--json", dump)
		var doc stacks.GroupsDoc
		if err := json.Unmarshal([]byte(out), &doc); err != nil {
			t.Fatal(err)
		}
		if doc.Stats == nil || doc.Stats.Unparsed != 1 || doc.Stats.Goroutines != 2 || len(doc.Problems) != 1 || !strings.Contains(errOut, warn) {
			t.Errorf("json: %+v %q; stderr %q", doc.Stats, doc.Problems, errOut)
		}
		page := filepath.Join(dir, "unparsed.html")
		_, _, errOut = run(t, "--html", page, dump)
		h, err := os.ReadFile(page)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(h), `<p class="warn">warning: 1 goroutine block could not be parsed and was skipped: &#34;goroutine 2 gp=0xc0 m=1 [chan receive]:&#34;</p>`) || !strings.Contains(errOut, warn) {
			t.Errorf("html lacks the warning; stderr %q", errOut)
		}
	})

	// Issue 13, point 2: a debug=1 profile whose records do not add up to
	// its stated total says so.
	t.Run("debug1 total", func(t *testing.T) {
		dump := file("short.txt", []byte("goroutine profile: total 5\n3 @ 0x1 0x2\n#\t0x1\tmain.f+0x1\t/a.go:1\n\n"))
		_, out, errOut := run(t, dump)
		const want = "the profile states 5 goroutines but its records hold 3"
		if !strings.Contains(out, want) || !strings.Contains(errOut, want) {
			t.Errorf("stdout %q\nstderr %q", out, errOut)
		}
	})

	// Issue 14, point 7: nothing from the dump reaches the terminal raw.
	t.Run("terminal escapes", func(t *testing.T) {
		evil := "goroutine 1 [chan receive\x1b[2J\x07\x1b[?1049h]:\n" +
			"main.(*T).f\x1b[2J\u202egnp.exe(0x1, \x00\x1b]8;;http://x\x1b\\)\n" +
			"\t/a\x9b31m.go:1 +0x1\n" +
			"created by main.\x1b[31mmain in goroutine 1\n\t/b.go:2 +0x2\n"
		dump := file("evil.txt", []byte(evil))
		for _, args := range [][]string{{"--color", "never", dump}, {"--color", "always", dump}, {"--diff", dump, dump}} {
			code, out, errOut := run(t, args...)
			if code != 0 {
				t.Fatalf("%v: exit %d: %s", args, code, errOut)
			}
			for _, bad := range []string{"\x07", "\x00", "\u202e", "\x9b", "\xc2\x9b", "\x1b]", "\x1b[2J", "\x1b\\", "\x1b[?"} {
				if strings.Contains(out, bad) || strings.Contains(errOut, bad) {
					t.Errorf("%v: output holds %q:\n%q", args, bad, out)
				}
			}
			if args[0] == "--color" && !strings.Contains(out, `main.(*T).f\x1b[2J\u202egnp.exe(0x1, \x00\x1b]8;;http://x\x1b\)`) {
				t.Errorf("%v: escaped call not shown:\n%s", args, out)
			}
		}
	})

	// Issue 14, point 2: a gzip bomb fails with a clear error, within a
	// bounded amount of memory.
	t.Run("gzip bomb", func(t *testing.T) {
		var buf bytes.Buffer
		zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
		zeros := make([]byte, 1<<20)
		for i := 0; i < 512; i++ { // 512 MiB of zeros, 512 KiB compressed
			zw.Write(zeros)
		}
		zw.Close()
		dump := file("bomb.pb.gz", buf.Bytes())
		cmd := exec.Command(bin, "stacks", dump)
		var e bytes.Buffer
		cmd.Stderr = &e
		err := cmd.Run()
		if err == nil || !strings.Contains(e.String(), "decompressed profile exceeds 64 MiB (stacks.MaxProfileBytes)") {
			t.Fatalf("err %v, stderr %q", err, e.String())
		}
		if rss := maxRSS(t, cmd, 256<<20); rss > 256<<20 {
			t.Errorf("max RSS %d MiB on a gzip bomb", rss>>20)
		}
	})

	// Issue 14, point 11: a goroutine of a million frames keeps
	// DefaultMaxFrames and counts the rest.
	t.Run("deep goroutine", func(t *testing.T) {
		var b strings.Builder
		b.WriteString("goroutine 1 [running]:\n")
		for i := 0; i < 1_000_000; i++ {
			b.WriteString("main.f(0x1)\n\t/a.go:1 +0x1\n")
		}
		dump := file("deep.txt", []byte(b.String()))
		cmd := exec.Command(bin, "stacks", dump)
		var o, e bytes.Buffer
		cmd.Stdout, cmd.Stderr = &o, &e
		if err := cmd.Run(); err != nil {
			t.Fatalf("%v: %s", err, e.String())
		}
		const want = "998976 frames dropped past the limit of frames per goroutine"
		if !strings.Contains(o.String(), want) || !strings.Contains(e.String(), want) {
			t.Errorf("stdout %.300q\nstderr %q", o.String(), e.String())
		}
		if rss := maxRSS(t, cmd, 200<<20); rss > 200<<20 {
			t.Errorf("max RSS %d MiB on a 1e6-frame goroutine", rss>>20)
		}
	})
}
