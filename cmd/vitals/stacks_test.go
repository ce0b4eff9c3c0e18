package main

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/govitals/vitals/stacks"
)

const fixtures = "../../stacks/testdata/"

func runCmd(t *testing.T, args ...string) (code int, out, errOut string) {
	t.Helper()
	var o, e bytes.Buffer
	code = run(append([]string{"stacks"}, args...), &o, &e)
	return code, o.String(), e.String()
}

func TestStacksCommand(t *testing.T) {
	dump := fixtures + "pprof_debug2.txt"
	tests := []struct {
		name     string
		args     []string
		code     int
		want     []string
		wantNot  []string
		wantErr  string
		jsonDoc  bool
		jsonDiff bool
	}{
		{name: "text", args: []string{dump}, want: []string{"19 goroutines in 11 groups", "5 chan receive", "main.worker("}},
		{name: "flags after file", args: []string{dump, "--min", "3"}, want: []string{"5 chan receive", "3 select"}, wantNot: []string{"sync.Mutex.Lock"}},
		{name: "match", args: []string{"--match", `Mutex`, dump}, want: []string{"sync.Mutex.Lock"}, wantNot: []string{"main.worker"}},
		{name: "similar lines", args: []string{"--similar", "lines", dump}, want: []string{"goroutines in"}},
		{name: "json", args: []string{"--json", dump}, jsonDoc: true},
		{name: "diff", args: []string{"--diff", dump, fixtures + "leaked_debug2.txt"}, want: []string{"appeared: 2 groups", "+3 (0 → 3) chan receive, 3 leaked", "vanished:"}},
		{name: "diff json", args: []string{"--json", "--diff", dump, fixtures + "leaked_debug2.txt"}, jsonDiff: true},
		{name: "proto", args: []string{fixtures + "pprof_debug0.pb.gz"}, want: []string{"main.worker"}},
		{name: "go1.27 labels", args: []string{fixtures + "matrix/go1.27.3_mod1.27_stack.txt"}, want: []string{"12 goroutines in 4 groups", "9 chan receive  [goroutines 6 7 8 9 10 11 12 13 …]\n"}},
		{name: "by labels", args: []string{"--by-labels", "*", fixtures + "matrix/go1.27.3_mod1.27_stack.txt"}, want: []string{"12 goroutines in 12 groups", "labels {job: sync, tenant: acme}", `labels {"key with space": "value with space"}`}},
		{name: "by label key", args: []string{"--by-labels", "job", fixtures + "matrix/go1.27.3_mod1.27_stack.txt"}, want: []string{"12 goroutines in 5 groups", "8 chan receive", "labels {job: sync}", "labels {job: locked}"}},
		{name: "match label", args: []string{"--by-labels", "*", "--match", "^acme$", fixtures + "matrix/go1.27.3_mod1.27_stack.txt"}, want: []string{"labels {job: sync, tenant: acme}"}, wantNot: []string{"users.list_all"}},
		{name: "not a dump", args: []string{fixtures + "README.md"}, code: 1, wantErr: "no goroutine dump found"},
		{name: "missing file", args: []string{"/nonexistent/dump"}, code: 1, wantErr: "no such file"},
		{name: "bad similar", args: []string{"--similar", "fuzzy", dump}, code: exitUsage, wantErr: "want exact, args or lines"},
		{name: "bad regexp", args: []string{"--match", "(", dump}, code: exitUsage, wantErr: "--match"},
		{name: "diff needs two", args: []string{"--diff", dump}, code: exitUsage, wantErr: "two dumps"},
		{name: "two without diff", args: []string{dump, dump}, code: exitUsage, wantErr: "one dump at a time"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errOut := runCmd(t, tt.args...)
			if code != tt.code {
				t.Fatalf("exit %d, want %d; stderr: %s", code, tt.code, errOut)
			}
			if tt.wantErr != "" && !strings.Contains(errOut, tt.wantErr) {
				t.Errorf("stderr %q lacks %q", errOut, tt.wantErr)
			}
			for _, w := range tt.want {
				if !strings.Contains(out, w) {
					t.Errorf("output lacks %q:\n%s", w, out)
				}
			}
			for _, w := range tt.wantNot {
				if strings.Contains(out, w) {
					t.Errorf("output has %q:\n%s", w, out)
				}
			}
			if strings.Contains(out, "\x1b[") {
				t.Error("color escapes written to a non-terminal")
			}
			if tt.jsonDoc {
				var doc stacks.GroupsDoc
				if err := json.Unmarshal([]byte(out), &doc); err != nil || doc.Schema != stacks.SchemaGroups || doc.Goroutines != 19 {
					t.Errorf("JSON: %v %+v", err, doc)
				}
			}
			if tt.jsonDiff {
				var doc stacks.DeltaDoc
				if err := json.Unmarshal([]byte(out), &doc); err != nil || doc.Schema != stacks.SchemaDelta || len(doc.Appeared) != 2 {
					t.Errorf("delta JSON: %v %+v", err, doc)
				}
			}
		})
	}
}

func TestStacksHTML(t *testing.T) {
	out := filepath.Join(t.TempDir(), "g.html")
	code, stdout, errOut := runCmd(t, "--html", out, fixtures+"labels_debug2.txt")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), "<details") || !strings.Contains(stdout, "wrote ") {
		t.Errorf("html: %d bytes, stdout %q", len(b), stdout)
	}
}

// TestStacksURL serves a real dump over loopback and checks the command
// asks for debug=2 and sends the credentials it was given.
func TestStacksURL(t *testing.T) {
	body, err := os.ReadFile(fixtures + "pprof_debug2.txt")
	if err != nil {
		t.Fatal(err)
	}
	var gotQuery, gotAuth string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		gotQuery, gotAuth = r.URL.RawQuery, r.Header.Get("Authorization")
		if r.URL.Path == "/denied" {
			http.Error(w, "no", http.StatusUnauthorized)
			return
		}
		w.Write(body)
	}))
	defer srv.Close()

	code, out, errOut := runCmd(t, "--token", "s3cret", srv.URL+"/debug/pprof/goroutine")
	if code != 0 || !strings.Contains(out, "19 goroutines") {
		t.Fatalf("exit %d: %s\n%s", code, errOut, out)
	}
	if gotQuery != "debug=2" || gotAuth != "Bearer s3cret" {
		t.Errorf("query %q auth %q", gotQuery, gotAuth)
	}
	code, _, errOut = runCmd(t, "--user", "ops:pw", srv.URL+"/x?debug=1")
	if code != 0 || gotQuery != "debug=1" || !strings.HasPrefix(gotAuth, "Basic ") {
		t.Errorf("basic auth: exit %d %s, query %q auth %q", code, errOut, gotQuery, gotAuth)
	}
	code, _, errOut = runCmd(t, srv.URL+"/denied")
	if code != 1 || !strings.Contains(errOut, "401") {
		t.Errorf("denied: exit %d, stderr %q", code, errOut)
	}
}
