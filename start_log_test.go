package vitals

import (
	"context"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/govitals/vitals/admin"
)

// TestStartIsNeverSilent: without a logger, each part Start could not start
// (a taken admin port, an unwritable trace directory) is one Warn line
// through slog.Default, besides Service.Err; what went well logs nothing.
// With WithLogger, the lines go there and slog.Default stays quiet.
func TestStartIsNeverSilent(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	file := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	broken := []StartOption{quiet(), NoWatchdog(),
		AdminOptions(admin.WithAddr(ln.Addr().String())),
		TraceDir(filepath.Join(file, "traces"), 3, 1<<20), // below a regular file: cannot be created
	}
	wantLines := []string{ln.Addr().String(), "tracecap: create dir"}

	var deflt logBuffer
	old := slog.Default()
	slog.SetDefault(slog.New(slog.NewTextHandler(&deflt, nil)))
	t.Cleanup(func() { slog.SetDefault(old) })

	t.Run("no logger", func(t *testing.T) {
		svc, err := Start(context.Background(), broken...)
		if err != nil {
			t.Fatal(err)
		}
		defer svc.Close()
		checkLines(t, deflt.String(), wantLines)
		for _, want := range wantLines {
			if e := svc.Err(); e == nil || !strings.Contains(e.Error(), want) {
				t.Errorf("Err() = %v, lacks %q", e, want)
			}
		}
	})
	t.Run("WithLogger", func(t *testing.T) {
		before := deflt.String()
		var own logBuffer
		svc, err := Start(context.Background(), append(broken, WithLogger(slog.New(slog.NewTextHandler(&own, nil))))...)
		if err != nil {
			t.Fatal(err)
		}
		defer svc.Close()
		checkLines(t, own.String(), wantLines)
		if after := deflt.String(); after != before {
			t.Errorf("slog.Default was used although WithLogger was given:\n%s", after[len(before):])
		}
	})
	t.Run("all well", func(t *testing.T) {
		before := deflt.String()
		svc, err := Start(context.Background(), quiet(), NoWatchdog(), AdminOptions(admin.WithAddr("127.0.0.1:0")))
		if err != nil {
			t.Fatal(err)
		}
		defer svc.Close()
		if err := svc.Err(); err != nil {
			t.Fatal(err)
		}
		if after := deflt.String(); after != before {
			t.Errorf("a Start that went well logged:\n%s", after[len(before):])
		}
	})
}

// checkLines wants each of want on exactly one Warn line of logs.
func checkLines(t *testing.T, logs string, want []string) {
	t.Helper()
	for _, w := range want {
		n := 0
		for _, l := range strings.Split(logs, "\n") {
			if strings.Contains(l, w) {
				n++
				if !strings.Contains(l, "level=WARN") {
					t.Errorf("not a Warn line: %s", l)
				}
			}
		}
		if n != 1 {
			t.Errorf("%q on %d log lines, want 1:\n%s", w, n, logs)
		}
	}
}

// TestOneLoggerOption: the same WithLogger value configures Setup (through
// Plan, which changes nothing) and Start; StartLogger still works.
func TestOneLoggerOption(t *testing.T) {
	var logs logBuffer
	opt := WithLogger(slog.New(slog.NewTextHandler(&logs, nil)))
	if _, err := Plan(opt, ProcsMinimum(1)); err != nil {
		t.Fatal(err)
	}
	for _, o := range []StartOption{opt, StartLogger(slog.New(slog.NewTextHandler(&logs, nil)))} {
		// A Setup option given straight to Start: no SetupOptions needed.
		svc, err := Start(context.Background(), quiet(), NoWatchdog(), ProcsMinimum(1), o,
			AdminOptions(admin.WithAddr("127.0.0.1:0")))
		if err != nil {
			t.Fatal(err)
		}
		svc.Close()
	}
	for _, bad := range []StartOption{WithLogger(nil), StartLogger(nil), SetupOption{}} {
		if svc, err := Start(context.Background(), bad); err == nil {
			svc.Close()
			t.Errorf("Start accepted %#v", bad)
		}
	}
	if _, err := Setup(WithLogger(nil)); err == nil {
		t.Error("Setup accepted WithLogger(nil)")
	}
}
