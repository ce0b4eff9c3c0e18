package stacks

import (
	"bytes"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	goldenfile "github.com/govitals/vitals/internal/golden"
)

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	goldenfile.Check(t, filepath.Join("testdata", "golden", name), got)
}

func TestGolden(t *testing.T) {
	for _, in := range []string{"pprof_debug2.txt", "labels_debug2.txt", "pprof_debug1.txt", "hand_go118.txt", "hand_variants.txt", "deep_recursion.txt"} {
		t.Run(in, func(t *testing.T) {
			base := strings.TrimSuffix(in, ".txt")
			groups := GroupBy(parseFile(t, in).Goroutines)
			var txt, js, html bytes.Buffer
			if err := WriteText(&txt, groups); err != nil {
				t.Fatal(err)
			}
			if err := WriteJSON(&js, groups); err != nil {
				t.Fatal(err)
			}
			if err := WriteHTML(&html, groups, Title(in)); err != nil {
				t.Fatal(err)
			}
			golden(t, base+".txt", txt.Bytes())
			golden(t, base+".json", js.Bytes())
			golden(t, base+".html", html.Bytes())

			var doc GroupsDoc
			if err := json.Unmarshal(js.Bytes(), &doc); err != nil {
				t.Fatal(err)
			}
			if doc.Schema != SchemaGroups || len(doc.Groups) != len(groups) || doc.Groups[0].Key != groups[0].Key {
				t.Errorf("JSON does not decode back: schema %q, %d groups", doc.Schema, len(doc.Groups))
			}
			h := html.String()
			for _, bad := range []string{"http://", "https://", "<link", " src="} {
				if strings.Contains(h, bad) {
					t.Errorf("HTML is not self-contained: has %q", bad)
				}
			}
			for _, want := range []string{"<details", `type="search"`, "<script>"} {
				if !strings.Contains(h, want) {
					t.Errorf("HTML lacks %q", want)
				}
			}
		})
	}
	t.Run("delta", func(t *testing.T) {
		d := Diff(GroupBy(parseFile(t, "pprof_debug2.txt").Goroutines), GroupBy(parseFile(t, "leaked_debug2.txt").Goroutines))
		var txt, js bytes.Buffer
		if err := WriteDeltaText(&txt, d); err != nil {
			t.Fatal(err)
		}
		if err := WriteDeltaJSON(&js, d); err != nil {
			t.Fatal(err)
		}
		golden(t, "delta.txt", txt.Bytes())
		golden(t, "delta.json", js.Bytes())
	})
}

func TestTextColorAndPaths(t *testing.T) {
	groups := GroupBy(parseFile(t, "hand_go118.txt").Goroutines)
	var plain, color, full bytes.Buffer
	WriteText(&plain, groups)
	WriteText(&color, groups, Color(true))
	WriteText(&full, groups, FullPaths())
	if strings.Contains(plain.String(), "\x1b[") {
		t.Error("plain text has ANSI escapes")
	}
	if !strings.Contains(color.String(), "\x1b[") {
		t.Error("Color(true) wrote no ANSI escapes")
	}
	for _, want := range []string{"net/http/server.go:2916", "github.com/acme/worker/v2@v2.3.1/pool.go:88"} {
		if !strings.Contains(plain.String(), "  "+want) {
			t.Errorf("trimmed text lacks %q", want)
		}
	}
	if !strings.Contains(full.String(), "/usr/lib/go-1.18/src/net/http/server.go:2916") {
		t.Error("FullPaths trimmed GOROOT")
	}
}

// TestGoldenMatrix renders every dump of the toolchain matrix
// (testdata/matrix, see gen.go) as text and JSON, and a few as HTML,
// grouped by labels so the label forms of each toolchain show.
func TestGoldenMatrix(t *testing.T) {
	for _, f := range matrixFiles(t) {
		name := filepath.Base(f)
		t.Run(name, func(t *testing.T) {
			d := parseFile(t, filepath.Join("matrix", name))
			groups := GroupBy(d.Goroutines, ByLabels())
			var txt, js bytes.Buffer
			if err := WriteText(&txt, groups, WithStats(d.Stats)); err != nil {
				t.Fatal(err)
			}
			if err := WriteJSON(&js, groups, WithStats(d.Stats)); err != nil {
				t.Fatal(err)
			}
			base := filepath.Join("matrix", strings.TrimSuffix(strings.TrimSuffix(name, ".txt"), ".pb.gz"))
			golden(t, base+".txt", txt.Bytes())
			if strings.Contains(name, "_stack") || strings.Contains(name, "_debug") || strings.Contains(name, "_leaked") {
				// encoding/json writes invalid UTF-8 as the escape
				// \ufffd before Go 1.27 and as U+FFFD itself after.
				golden(t, base+".json", bytes.ReplaceAll(js.Bytes(), []byte(`\ufffd`), []byte("\ufffd")))
			}
			if strings.HasSuffix(name, "_stack.txt") || strings.HasSuffix(name, "_stack_labels1.txt") {
				var html bytes.Buffer
				if err := WriteHTML(&html, groups, Title(name), WithStats(d.Stats)); err != nil {
					t.Fatal(err)
				}
				golden(t, base+".html", html.Bytes())
			}
		})
	}
}
