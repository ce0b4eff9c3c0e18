package tracecap

import (
	"path/filepath"
	"strings"
	"testing"
)

// FuzzCreateName: whatever the reason (it may come from an HTTP query), the
// file lands directly inside the directory with a short, plain name.
func FuzzCreateName(f *testing.F) {
	for _, seed := range []string{"slow checkout", "../../etc/passwd", "a/b\\c", "", "\x00\n", "é", strings.Repeat("x", 300), ".", ".."} {
		f.Add(seed)
	}
	dir := f.TempDir()
	d, err := OpenDir(dir, 2, 1<<20)
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, reason string) {
		file, err := d.Create(reason)
		if err != nil {
			t.Fatal(err)
		}
		defer file.Abort()
		name := file.Name()
		if filepath.Dir(name) != dir {
			t.Fatalf("reason %q: %s is outside %s", reason, name, dir)
		}
		base := filepath.Base(name)
		if len(base) > 100 || !strings.HasSuffix(base, Suffix) || strings.HasPrefix(base, ".") {
			t.Fatalf("reason %q: bad name %q", reason, base)
		}
	})
}
