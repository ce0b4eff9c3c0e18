package stacks

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestHeaderForms covers header combinations a short generator run cannot
// produce (wait minutes, a crash header with labels on a locked goroutine
// in a bubble), each built from runtime.goroutineheader in Go 1.26.8 and
// 1.27.3 (src/runtime/traceback.go): gp=/m=/mp= before the brackets, flags
// after the status, then minutes, locked, bubble; labels inside the
// brackets (1.26) or after them (1.27).
func TestHeaderForms(t *testing.T) {
	tests := []struct {
		line string
		want Goroutine
	}{
		{`goroutine 19 [chan receive] {job: sync, tenant: acme}:`,
			Goroutine{ID: 19, State: "chan receive", Labels: map[string]string{"job": "sync", "tenant": "acme"}}},
		{`goroutine 7 gp=0xc000007a40 m=3 mp=0xc000100008 [select (scan), 12 minutes, locked to thread] {"a b": "c, d", k: "x: {y}"}:`,
			Goroutine{ID: 7, GP: 0xc000007a40, M: "3", MP: 0xc000100008, State: "select", Scan: true, WaitMinutes: 12, Locked: true,
				Labels: map[string]string{"a b": "c, d", "k": "x: {y}"}}},
		{`goroutine 8 gp=0xc000007c00 m=nil [chan receive (leaked) (durable), 3 minutes, locked to thread, synctest bubble 4] {: , e: "\x1b\u202e\xff\U0001f680"}:`,
			Goroutine{ID: 8, GP: 0xc000007c00, M: "nil", State: "chan receive", Leaked: true, Durable: true, WaitMinutes: 3, Locked: true, Bubble: 4,
				Labels: map[string]string{"": "", "e": "\x1b\u202e\xff\U0001f680"}}},
		{`goroutine 9 [sleep (durable), 61 minutes, synctest bubble 2 labels:{"job": "x]: y", "q": "\"\\"}]:`,
			Goroutine{ID: 9, State: "sleep", Durable: true, WaitMinutes: 61, Bubble: 2, Labels: map[string]string{"job": "x]: y", "q": `"\`}}},
		// What does not fit a suffix stays in the state.
		{`goroutine 10 [weird, 0 minutes, synctest bubble 1x, locked to thread]:`,
			Goroutine{ID: 10, State: "weird, 0 minutes, synctest bubble 1x", Locked: true}},
		{`goroutine 11 [a (scan), b]:`, Goroutine{ID: 11, State: "a (scan), b"}},
	}
	for _, tt := range tests {
		d, err := Parse(strings.NewReader(tt.line + "\nmain.f()\n\t/a.go:1 +0x1\n"))
		if err != nil {
			t.Errorf("%s: %v", tt.line, err)
			continue
		}
		g := d.Goroutines[0]
		tt.want.Frames = g.Frames
		if diff := cmp.Diff(&tt.want, g, cmpDump); diff != "" {
			t.Errorf("%s (-want +got):\n%s", tt.line, diff)
		}
		var out strings.Builder
		WriteDump(&out, d)
		if got, _, _ := strings.Cut(out.String(), "\n"); got != tt.line && !strings.Contains(tt.line, "{: ") {
			t.Errorf("written back as\n%s\nwant\n%s", got, tt.line)
		}
	}
}

// TestHeaderUnparsed: header-like lines that are not what the runtime
// prints are counted, not taken for goroutines and not dropped silently.
func TestHeaderUnparsed(t *testing.T) {
	for _, line := range []string{
		`goroutine 0 mp=01 []:`,                  // mp without gp= and m=
		`goroutine 1 gp=0x1 m=2 [running]:`,      // m=N without mp=
		`goroutine 2 [running] {job: a b}:`,      // bare value with a space
		`goroutine 3 [running] {"job": "x}:`,     // unterminated quote
		`goroutine 4 [running labels:{"a": 1}]:`, // unquoted 1.26 value
		`goroutine 5 [running`,                   // cut
		`goroutine 6 [run]ning]:`,
	} {
		in := "goroutine 99 [running]:\nmain.f()\n\t/a.go:1 +0x1\n\n" + line + "\nmain.g()\n\t/a.go:2 +0x1\n"
		d, err := Parse(strings.NewReader(in))
		if err != nil {
			t.Errorf("%q: %v", line, err)
			continue
		}
		if len(d.Goroutines) != 1 || d.Stats.Unparsed != 1 || d.Stats.UnparsedExamples[0] != line {
			t.Errorf("%q: %d goroutines, stats %+v", line, len(d.Goroutines), d.Stats)
		}
	}
}
