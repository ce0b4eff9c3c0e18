package golden

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

type recorder struct {
	testing.TB
	errs []string
}

func (r *recorder) Helper()                        {}
func (r *recorder) Errorf(format string, a ...any) { r.errs = append(r.errs, format) }

func TestCheck(t *testing.T) {
	path := filepath.Join(t.TempDir(), "out.golden")
	if err := os.WriteFile(path, []byte("same\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	r := &recorder{TB: t}
	Check(r, path, []byte("same\n"))
	if len(r.errs) != 0 {
		t.Errorf("equal content reported: %v", r.errs)
	}
	Check(r, path, []byte("different\n"))
	if len(r.errs) != 1 || !strings.Contains(r.errs[0], "differs") {
		t.Errorf("a difference was not reported: %v", r.errs)
	}
}
