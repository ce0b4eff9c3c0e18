package inspect_test

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/govitals/vitals/incident"
	"github.com/govitals/vitals/incident/inspect"
)

// bundle writes a real manual bundle (without a trace) and returns its path.
func bundle(t testing.TB) string {
	m, err := incident.New(t.TempDir(), incident.NoFlightRecorder())
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	inc, err := m.Capture(context.Background(), "inspect test")
	if err != nil {
		t.Fatal(err)
	}
	return inc.Path
}

func TestSummarize(t *testing.T) {
	p := bundle(t)
	b, err := inspect.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	s := inspect.Summarize(b, 3)
	if s.Trigger != "manual" || s.Reason != "inspect test" || len(s.Problems) > 0 {
		t.Fatalf("summary %+v", s)
	}
	if s.HeapInUse <= 0 || len(s.Heap) == 0 || len(s.Heap) > 3 || len(s.Groups) == 0 || len(s.Groups) > 3 {
		t.Errorf("heap %d %v groups %v", s.HeapInUse, s.Heap, s.Groups)
	}
	if s.Trace != nil {
		t.Errorf("trace %+v without a flight recorder", s.Trace)
	}
	var text, js bytes.Buffer
	if err := inspect.WriteText(&text, s); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"incident manual: inspect test", "flight-recorder trace: none", "skipped: no flight recorder"} {
		if !strings.Contains(text.String(), want) {
			t.Errorf("text lacks %q:\n%s", want, text.String())
		}
	}
	if err := inspect.WriteJSON(&js, s); err != nil || !json.Valid(js.Bytes()) {
		t.Errorf("json: %v", err)
	}
	dir := t.TempDir()
	files, err := b.Extract(dir)
	if err != nil || len(files) < 4 {
		t.Errorf("extract: %v %v", err, files)
	}
}

func TestOpenRejects(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, parts map[string]string) string {
		var buf bytes.Buffer
		zw := zip.NewWriter(&buf)
		for n, c := range parts {
			w, _ := zw.Create(n)
			w.Write([]byte(c))
		}
		zw.Close()
		p := filepath.Join(dir, name)
		os.WriteFile(p, buf.Bytes(), 0o600)
		return p
	}
	tests := []struct {
		name, path, want string
	}{
		{"not a zip", func() string { p := filepath.Join(dir, "x.zip"); os.WriteFile(p, []byte("nope"), 0o600); return p }(), "not a complete bundle"},
		{"no manifest", write("a.zip", map[string]string{"heap.pb.gz": "x"}), "has no manifest.json"},
		{"bad manifest", write("b.zip", map[string]string{"manifest.json": "{"}), "manifest"},
		{"other schema", write("c.zip", map[string]string{"manifest.json": `{"schema":"x"}`}), "schema"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := inspect.Open(tt.path)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Open: %v, want %q", err, tt.want)
			}
		})
	}
	// A bundle whose parts are garbage is summarised with its problems
	// listed, not dropped.
	p := write("d.zip", map[string]string{"manifest.json": `{"schema":"` + incident.Schema + `","trigger":"memory"}`,
		incident.PartHeap: "garbage", incident.PartGoroutines: "garbage", incident.PartTrace: "garbage"})
	b, err := inspect.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	s := inspect.Summarize(b, 5)
	if len(s.Problems) != 3 {
		t.Errorf("problems %q, want heap, goroutines and trace", s.Problems)
	}
}

func FuzzOpen(f *testing.F) {
	seed, err := os.ReadFile(bundle(f))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(seed)
	f.Add([]byte("PK\x03\x04"))
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, data []byte) {
		p := filepath.Join(dir, "f.zip")
		if err := os.WriteFile(p, data, 0o600); err != nil {
			t.Fatal(err)
		}
		b, err := inspect.Open(p)
		if err != nil {
			return
		}
		defer b.Close()
		s := inspect.Summarize(b, 5)
		var buf bytes.Buffer
		_ = inspect.WriteText(&buf, s)
	})
}

func Example() {
	m, _ := incident.New(os.TempDir()+"/vitals-inspect-example", incident.NoFlightRecorder())
	defer os.RemoveAll(m.Dir().Path())
	defer m.Close()
	inc, _ := m.Capture(context.Background(), "example")
	b, err := inspect.Open(inc.Path)
	if err != nil {
		return
	}
	defer b.Close()
	s := inspect.Summarize(b, 5)
	os.Stdout.WriteString(s.Trigger + ": " + s.Reason + "\n")
	// Output: manual: example
}
