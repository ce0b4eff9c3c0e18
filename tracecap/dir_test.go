package tracecap

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// usageOnDisk lists what really is in dir: the caps are about the disk, not
// about Dir's own accounting.
func usageOnDisk(t *testing.T, dir string) (files int, bytes int64) {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		if !strings.HasSuffix(e.Name(), Suffix) {
			continue
		}
		info, err := e.Info()
		if err != nil {
			t.Fatal(err)
		}
		files++
		bytes += info.Size()
	}
	return files, bytes
}

func writeFile(t *testing.T, d *Dir, prefix string, n int) (*File, error) {
	t.Helper()
	f, err := d.Create(prefix)
	if err != nil {
		return nil, err
	}
	_, err = f.Write(bytes.Repeat([]byte{'x'}, n))
	if err != nil {
		_ = f.Close() // discards
		return f, err
	}
	return f, f.Close()
}

func TestDirCaps(t *testing.T) {
	tests := []struct {
		name      string
		maxFiles  int
		maxBytes  int64
		sizes     []int
		wantFiles int
		wantBytes int64
		wantFull  int // index of the write that must fail with ErrDirFull, -1 none
	}{
		{"count cap", 3, 1 << 20, []int{10, 10, 10, 10, 10}, 3, 30, -1},
		{"byte cap", 10, 100, []int{40, 40, 40, 40}, 2, 80, -1},
		{"byte cap evicts several", 10, 100, []int{30, 30, 30, 90}, 1, 90, -1},
		{"too big alone keeps the rest", 10, 100, []int{50, 101, 20}, 2, 70, 1},
		{"exact fit", 2, 100, []int{100, 100}, 1, 100, -1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := t.TempDir()
			d, err := OpenDir(path, tt.maxFiles, tt.maxBytes)
			if err != nil {
				t.Fatal(err)
			}
			for i, n := range tt.sizes {
				_, err := writeFile(t, d, "t", n)
				if i == tt.wantFull {
					if !errors.Is(err, ErrDirFull) {
						t.Fatalf("write %d: err %v, want ErrDirFull", i, err)
					}
				} else if err != nil {
					t.Fatalf("write %d: %v", i, err)
				}
				if f, b := usageOnDisk(t, path); f > tt.maxFiles || b > tt.maxBytes {
					t.Fatalf("after write %d: %d files, %d bytes on disk; caps %d, %d", i, f, b, tt.maxFiles, tt.maxBytes)
				}
			}
			f, b := usageOnDisk(t, path)
			if f != tt.wantFiles || b != tt.wantBytes {
				t.Errorf("on disk: %d files %d bytes, want %d, %d", f, b, tt.wantFiles, tt.wantBytes)
			}
			if df, db := d.Usage(); df != f || db != b {
				t.Errorf("Usage() = %d, %d; disk has %d, %d", df, db, f, b)
			}
		})
	}
}

func TestDirOldestRemovedFirst(t *testing.T) {
	d, err := OpenDir(t.TempDir(), 2, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"a", "b", "c"} {
		if _, err := writeFile(t, d, p, 1); err != nil {
			t.Fatal(err)
		}
	}
	var got []string
	for _, f := range d.Files() {
		got = append(got, filepath.Base(f)[:1])
	}
	if strings.Join(got, "") != "bc" {
		t.Errorf("kept %v, want [b c]", got)
	}
}

func TestOpenDirAdoptsExisting(t *testing.T) {
	path := t.TempDir()
	for i, name := range []string{"old.trace", "mid.trace", "new.trace"} {
		p := filepath.Join(path, name)
		if err := os.WriteFile(p, make([]byte, 10), 0o600); err != nil {
			t.Fatal(err)
		}
		mt := filepath.Join(path, name)
		tm := fixedTime(i)
		if err := os.Chtimes(mt, tm, tm); err != nil {
			t.Fatal(err)
		}
	}
	// A foreign file is neither counted nor removed.
	if err := os.WriteFile(filepath.Join(path, "notes.txt"), make([]byte, 1000), 0o600); err != nil {
		t.Fatal(err)
	}
	d, err := OpenDir(path, 2, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(path, "old.trace")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("oldest existing file kept: %v", err)
	}
	if _, err := os.Stat(filepath.Join(path, "notes.txt")); err != nil {
		t.Errorf("foreign file touched: %v", err)
	}
	if f, b := d.Usage(); f != 2 || b != 20 {
		t.Errorf("Usage() = %d, %d; want 2, 20", f, b)
	}
}

func TestOpenDirValidates(t *testing.T) {
	if _, err := OpenDir(t.TempDir(), 0, 10); err == nil {
		t.Error("max files 0 accepted")
	}
	if _, err := OpenDir(t.TempDir(), 1, 0); err == nil {
		t.Error("max bytes 0 accepted")
	}
}

func TestCreateNamesStayInside(t *testing.T) {
	path := t.TempDir()
	d, err := OpenDir(path, 5, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	for _, reason := range []string{"../../etc/passwd", "a/b", "", strings.Repeat("x", 500), "é\x00\n"} {
		f, err := d.Create(reason)
		if err != nil {
			t.Fatal(err)
		}
		if filepath.Dir(f.Name()) != path {
			t.Errorf("reason %q: file %s outside %s", reason, f.Name(), path)
		}
		if len(filepath.Base(f.Name())) > 100 {
			t.Errorf("reason %q: name %d bytes long", reason, len(filepath.Base(f.Name())))
		}
		f.Abort()
	}
	if f, _ := usageOnDisk(t, path); f != 0 {
		t.Errorf("%d files left after Abort", f)
	}
}

func TestAllSlotsOpen(t *testing.T) {
	d, err := OpenDir(t.TempDir(), 1, 100)
	if err != nil {
		t.Fatal(err)
	}
	f, err := d.Create("a")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := d.Create("b"); err == nil {
		t.Error("second open file accepted with 1 slot")
	}
	f.Abort()
	if _, err := d.Create("c"); err != nil {
		t.Errorf("slot not freed by Abort: %v", err)
	}
}

func fixedTime(i int) time.Time { return time.Date(2026, 1, 1, 0, 0, i, 0, time.UTC) }
