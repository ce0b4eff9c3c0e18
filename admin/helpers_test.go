package admin

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/govitals/vitals/tracecap"
)

const (
	testUser  = "ops"
	testPass  = "s3cret-pass"
	testToken = "tok-0123456789"
)

// started builds and starts a server on a free loopback port; it is closed
// when the test ends.
func started(t *testing.T, opts ...Option) *Server {
	t.Helper()
	opts = append([]Option{WithAddr("127.0.0.1:0")}, opts...)
	s, err := New(opts...)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := s.Shutdown(ctx); err != nil {
			t.Error(err)
		}
	})
	return s
}

// recorder starts a flight recorder writing into a temp dir, closed at the
// end of the test.
func recorder(t *testing.T, opts ...tracecap.Option) *tracecap.Recorder {
	t.Helper()
	d, err := tracecap.OpenDir(t.TempDir(), 5, 64<<20)
	if err != nil {
		t.Fatal(err)
	}
	r, err := tracecap.NewRecorder(append([]tracecap.Option{tracecap.WithDir(d)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = r.Close() })
	return r
}

type cred int

const (
	noCred cred = iota
	basicCred
	bearerCred
	wrongBasic
	wrongBearer
)

func (c cred) String() string {
	return [...]string{"none", "basic", "bearer", "wrong basic", "wrong bearer"}[c]
}

// get fetches path from s with the given credentials and returns the
// response with its body read.
func get(t *testing.T, s *Server, method, path string, c cred, hdr ...string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, "http://"+s.Addr()+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	switch c {
	case basicCred:
		req.SetBasicAuth(testUser, testPass)
	case bearerCred:
		req.Header.Set("Authorization", "Bearer "+testToken)
	case wrongBasic:
		req.SetBasicAuth(testUser, testPass+"x")
	case wrongBearer:
		req.Header.Set("Authorization", "Bearer "+testToken+"x")
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: read body: %v", method, path, err)
	}
	return resp, body
}

func routePatterns(s *Server) []string {
	var ps []string
	for _, r := range s.Routes() {
		ps = append(ps, r.Pattern)
	}
	return ps
}

func contains(b []byte, sub string) bool { return strings.Contains(string(b), sub) }

// withGCFresh sets how recent a GC cycle must be for heap?gc=1 to skip its
// forced GC (0: always force).
func withGCFresh(d time.Duration) Option {
	return optionFunc(func(c *config) { c.gcFresh = d })
}
