package metrics

import (
	"math"
	"strconv"
	"testing"
)

// FuzzParseMemLimit checks that any GOMEMLIMIT string parses to -1, a
// non-negative byte count, or math.MaxInt64 for "off", without panicking, and
// that plain numbers round-trip.
func FuzzParseMemLimit(f *testing.F) {
	for _, s := range []string{"", "off", "0", "1024", "512MiB", "2GiB", "1TiB", "10KiB", "7B", "1.5GiB", "-1", "9223372036854775807", "99999999999TiB", "GiB"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n := parseMemLimit(s)
		if n < -1 {
			t.Fatalf("parseMemLimit(%q) = %d", s, n)
		}
		if s == "off" && n != math.MaxInt64 {
			t.Fatalf("off = %d", n)
		}
		if n >= 0 && s != "off" {
			if v, err := strconv.ParseInt(s, 10, 64); err == nil && v != n {
				t.Fatalf("parseMemLimit(%q) = %d, want %d", s, n, v)
			}
		}
	})
}
