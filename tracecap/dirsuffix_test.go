package tracecap

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A Dir with another suffix counts, creates and removes only its own files:
// trace files in the same directory are left alone.
func TestOpenDirSuffix(t *testing.T) {
	dir := t.TempDir()
	other := filepath.Join(dir, "keep"+Suffix)
	if err := os.WriteFile(other, make([]byte, 100), 0o600); err != nil {
		t.Fatal(err)
	}
	d, err := OpenDirSuffix(dir, ".zip", 2, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	if n, b := d.Usage(); n != 0 || b != 0 {
		t.Errorf("usage %d files %d bytes; a .trace file was counted", n, b)
	}
	for range 3 {
		f, err := d.Create("bundle")
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasSuffix(f.Name(), ".zip") {
			t.Errorf("created %s", f.Name())
		}
		if _, err := f.Write([]byte("x")); err != nil {
			t.Fatal(err)
		}
		if err := f.Close(); err != nil {
			t.Fatal(err)
		}
	}
	if got := len(d.Files()); got != 2 {
		t.Errorf("%d .zip files kept, want the cap of 2", got)
	}
	if _, err := os.Stat(other); err != nil {
		t.Errorf("the .trace file was removed: %v", err)
	}
	for _, bad := range []string{"", "/x", `a\b`} {
		if _, err := OpenDirSuffix(dir, bad, 1, 1); err == nil {
			t.Errorf("suffix %q accepted", bad)
		}
	}
}
