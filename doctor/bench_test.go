package doctor_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"testing"

	"github.com/govitals/vitals/checklist"
	"github.com/govitals/vitals/doctor"
)

// BenchmarkParseVitals is the doctor's cost per audited service once the
// answer is in: decoding /debug/vitals and judging it.
func BenchmarkParseVitals(b *testing.B) {
	body, err := os.ReadFile("testdata/vitals/pass.json")
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		a, err := doctor.ParseVitals(body)
		if err != nil {
			b.Fatal(err)
		}
		_ = checklist.Evaluate(a.Facts)
	}
}

// BenchmarkVitalsLoopback is one audit of a service over loopback HTTP
// (a fresh connection per request, as doctor makes them).
func BenchmarkVitalsLoopback(b *testing.B) {
	body, err := os.ReadFile("testdata/vitals/pass.json")
	if err != nil {
		b.Fatal(err)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write(body) }))
	defer srv.Close()
	b.ReportAllocs()
	for b.Loop() {
		if a := doctor.Vitals(context.Background(), srv.URL); a.Error != "" {
			b.Fatal(a.Error)
		}
	}
}

// BenchmarkPublicLoopback is one probe of a clean public port: the control
// request and every probe, each 404.
func BenchmarkPublicLoopback(b *testing.B) {
	srv := httptest.NewServer(http.NotFoundHandler())
	defer srv.Close()
	b.ReportAllocs()
	for b.Loop() {
		if a := doctor.Public(context.Background(), srv.URL); a.Error != "" {
			b.Fatal(a.Error)
		}
	}
}
