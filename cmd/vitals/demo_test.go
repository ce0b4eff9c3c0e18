package main

import (
	"bytes"
	"strings"
	"testing"
)

// TestDemo runs `vitals demo` until the watchdog reports the leak (at most
// 50 s) and checks what it printed.
func TestDemo(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a demo service for about 10 s")
	}
	clearEnv(t)
	var out, errb bytes.Buffer
	code := run([]string{"demo", "--duration", "50s", "--once", "--leak-after", "3s"}, &out, &errb)
	if code != 0 {
		t.Fatalf("exit %d, stderr %q\n%s", code, errb.String(), out.String())
	}
	for _, want := range []string{
		"  admin      http://127.0.0.1:", "  token      ", "  dashboard  http://127.0.0.1:",
		"watchdog learnt the steady state", "injecting the leak",
		"watchdog caught the leak", "internal/demo.(*app).awaitReply created by github.com/govitals/vitals/internal/demo.(*app).subscribe",
		"(vitals admin endpoint): FAIL", "FAIL  goroutine count not climbing",
		"(public port, probed from outside): PASS",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
	t.Logf("demo output:\n%s", out.String())
}

func TestDemoBadArgs(t *testing.T) {
	var out, errb bytes.Buffer
	if code := run([]string{"demo", "extra"}, &out, &errb); code != exitUsage || !strings.Contains(errb.String(), "usage: vitals demo") {
		t.Errorf("exit %d, stderr %q", code, errb.String())
	}
}
