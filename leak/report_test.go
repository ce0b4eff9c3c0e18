package leak

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	goldenfile "github.com/govitals/vitals/internal/golden"
)

// fixtureConfig checks a fixed dump with a virtual clock, so the report is
// deterministic.
func fixtureConfig(t testing.TB, dump []byte, opts ...Option) *config {
	t.Helper()
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	seams := optionFunc(func(c *config) {
		c.dump = func([]byte) []byte { return dump }
		c.now = func() time.Time { return now }
		c.sleep = func(d time.Duration) { now = now.Add(d) }
		c.useLeakProfile = false
		c.names = func(uint64) (string, bool) { return "", false }
	})
	return buildConfig(append([]Option{seams}, opts...))
}

func TestReportGolden(t *testing.T) {
	dump, err := os.ReadFile("testdata/dump.txt")
	if err != nil {
		t.Fatal(err)
	}
	e := fixtureConfig(t, dump).find(0, "")
	if e == nil {
		t.Fatal("no leak found in the fixture")
	}
	got := e.Error() + "\n"
	goldenfile.Check(t, filepath.Join("testdata", "report.golden"), []byte(got))
}

// TestPolling checks the timing rules on a virtual clock: exponential
// backoff from 10 µs to 50 ms, give up once the leak set is unchanged for
// Settle, keep waiting while it changes, never past Timeout.
func TestPolling(t *testing.T) {
	dump, err := os.ReadFile("testdata/dump.txt")
	if err != nil {
		t.Fatal(err)
	}
	t.Run("stable leak gives up after Settle", func(t *testing.T) {
		var sleeps []time.Duration
		c := fixtureConfig(t, dump)
		inner := c.sleep
		c.sleep = func(d time.Duration) { sleeps = append(sleeps, d); inner(d) }
		e := c.find(0, "")
		if e == nil {
			t.Fatal("no leak")
		}
		if e.Waited < DefaultSettle || e.Waited > DefaultSettle+maxBackoff {
			t.Errorf("waited %v, want about %v", e.Waited, DefaultSettle)
		}
		if sleeps[0] != firstBackoff || sleeps[1] != 2*firstBackoff {
			t.Errorf("backoff starts %v, want %v doubling", sleeps[:2], firstBackoff)
		}
		for _, d := range sleeps {
			if d > maxBackoff {
				t.Errorf("slept %v, cap is %v", d, maxBackoff)
			}
		}
	})
	t.Run("changing leak waits until Timeout", func(t *testing.T) {
		n := 0
		c := fixtureConfig(t, nil, Timeout(time.Second))
		c.dump = func([]byte) []byte {
			n++ // a new goroutine every poll: still changing
			return []byte("goroutine " + itoa(100+n) + " [chan receive]:\nexample.com/p.f()\n\t/p/f.go:1 +0x1\ncreated by example.com/p.g in goroutine 1\n\t/p/g.go:2 +0x2\n")
		}
		e := c.find(0, "")
		if e == nil || e.Waited < time.Second {
			t.Errorf("gave up after %v, want the full 1s timeout", e.Waited)
		}
	})
	t.Run("clean after a few polls returns at once", func(t *testing.T) {
		n := 0
		c := fixtureConfig(t, nil)
		c.dump = func([]byte) []byte {
			n++
			if n < 4 {
				return dump
			}
			return []byte("goroutine 1 [running]:\nmain.main()\n\t/m.go:1 +0x1\n")
		}
		if e := c.find(1, ""); e != nil {
			t.Fatalf("leak reported: %v", e)
		}
		if n != 4 {
			t.Errorf("%d polls, want 4", n)
		}
	})
}

func itoa(n int) string { return fmtInt(n) }

// FuzzScan feeds arbitrary dumps to the checker: it must report or return
// an error, never panic.
func FuzzScan(f *testing.F) {
	if b, err := os.ReadFile("testdata/dump.txt"); err == nil {
		f.Add(b)
	}
	f.Add([]byte("goroutine 1 [running]:\nmain.main()\n"))
	f.Add([]byte("goroutine 7 [chan send]:\n...1000 frames elided...\ncreated by x in goroutine 7\n"))
	f.Add([]byte("goroutine 18446744073709551615 [x]:\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		c := fixtureConfig(t, b, Timeout(time.Millisecond))
		e := c.find(0, "")
		if e != nil {
			_ = e.Error()
		}
	})
}

func fmtInt(n int) string {
	if n == 0 {
		return "0"
	}
	var b []byte
	for ; n > 0; n /= 10 {
		b = append([]byte{byte('0' + n%10)}, b...)
	}
	return string(b)
}
