package gctrace

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"
)

// benchInput is the captured corpus, repeated to about 1 MiB: real gc,
// scav and scan lines mixed with program output, split lines included.
func benchInput(b *testing.B) []byte {
	b.Helper()
	files, err := filepath.Glob(filepath.Join("testdata", "*.txt"))
	if err != nil || len(files) == 0 {
		b.Fatalf("no corpus: %v", err)
	}
	var one []byte
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			b.Fatal(err)
		}
		one = append(one, data...)
	}
	return bytes.Repeat(one, 1<<20/len(one)+1)
}

// BenchmarkReader measures parse throughput: MB/s of gctrace output.
func BenchmarkReader(b *testing.B) {
	in := benchInput(b)
	b.SetBytes(int64(len(in)))
	b.ReportAllocs()
	for b.Loop() {
		r := NewReader(bytes.NewReader(in))
		for {
			if _, err := r.Next(); err != nil {
				if !errors.Is(err, io.EOF) {
					b.Fatal(err)
				}
				break
			}
		}
	}
}

// BenchmarkSummarize measures reading and summarizing together.
func BenchmarkSummarize(b *testing.B) {
	in := benchInput(b)
	b.SetBytes(int64(len(in)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Summarize(bytes.NewReader(in)); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkParseGCLine measures one gc line.
func BenchmarkParseGCLine(b *testing.B) {
	line := []byte("gc 1234 @3601.250s 12%: 15+2100+0.91 ms clock, 120+45/8000/33+7.3 ms cpu, 10240->10400->5100 MB, 10300 MB goal, 12 MB stacks, 3 MB globals, 64 P (forced)")
	b.SetBytes(int64(len(line)))
	b.ReportAllocs()
	var rec Record
	for b.Loop() {
		if k, _ := parseLine(line, &rec); k != KindGC {
			b.Fatal("no parse")
		}
	}
}
