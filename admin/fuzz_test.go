package admin

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// FuzzSymbol feeds arbitrary request bodies and queries to the symbol
// handler: it must never panic and always answer in the protocol's shape.
func FuzzSymbol(f *testing.F) {
	for _, seed := range []string{"", "0x401000", "0x401000+0x402000", "+++", "0x", "18446744073709551615", "0xffffffffffffffffff", "nonsense+0x1+"} {
		f.Add(seed)
	}
	s, err := New()
	if err != nil {
		f.Fatal(err)
	}
	// The profile budget holds symbol lookups to at most ten a second
	// whatever its size (each is charged at least a tenth of a second's
	// budget), so the fuzzer ran at about 5 execs/s and a 1M-execution run
	// would take days. Give this server a balance of a century instead; the
	// budget itself has its own tests.
	s.writes.burst = 100 * 365 * 24 * time.Hour
	s.writes.balance = s.writes.burst
	f.Fuzz(func(t *testing.T, in string) {
		for _, req := range []*http.Request{
			httptest.NewRequest("POST", "/debug/pprof/symbol", strings.NewReader(in)),
			httptest.NewRequest("GET", "/debug/pprof/symbol?"+urlSafe(in), nil),
		} {
			req.Host = "127.0.0.1" // httptest's example.com is refused without credentials
			rec := httptest.NewRecorder()
			s.Handler().ServeHTTP(rec, req)
			if rec.Code != 200 && rec.Code != 400 && rec.Code != 413 {
				t.Fatalf("status %d for %q", rec.Code, in)
			}
			if rec.Code == 200 && !strings.HasPrefix(rec.Body.String(), "num_symbols: 1\n") {
				t.Fatalf("body %q for %q", rec.Body.String(), in)
			}
		}
	})
}

// urlSafe keeps what httptest.NewRequest accepts in a query.
func urlSafe(s string) string {
	return strings.Map(func(r rune) rune {
		if r > ' ' && r < 0x7f && r != '#' && r != '%' {
			return r
		}
		return -1
	}, s)
}

// FuzzSeconds checks that any seconds= value is either rejected or clamped
// to the maximum duration, never negative or longer.
func FuzzSeconds(f *testing.F) {
	for _, seed := range []string{"1", "0.5", "30", "3600", "-1", "0", "NaN", "Inf", "-Inf", "1e309", "1e-9", "abc", "", "0x10", "1e-10", "4.9e-324", "1000001", "0.001"} {
		f.Add(seed)
	}
	s, err := New(WithMaxDuration(30 * time.Second))
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, v string) {
		req := httptest.NewRequest("GET", "/", nil)
		q := req.URL.Query()
		q.Set("seconds", v)
		req.URL.RawQuery = q.Encode()
		d, err := s.seconds(httptest.NewRecorder(), req, time.Second)
		if err != nil {
			return
		}
		if d < minDuration || d > 30*time.Second {
			t.Fatalf("seconds=%q gave %v", v, d)
		}
	})
}
