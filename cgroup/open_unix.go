//go:build unix && !linux

package cgroup

import (
	"errors"
	"path/filepath"
	"strings"
	"syscall"
)

// openBelow opens name, a path below root, refusing it when a symbolic
// link leads out of the root (cgroups exist only on Linux; this serves
// fixture trees read elsewhere).
func openBelow(root, name string, flags int) (int, error) {
	resolved, err := filepath.EvalSymlinks(name)
	if err != nil {
		return -1, err
	}
	realRoot, err := filepath.EvalSymlinks(root)
	if err != nil {
		return -1, err
	}
	if rel, err := filepath.Rel(realRoot, resolved); err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
		return -1, errors.New("a symbolic link leads out of the root")
	}
	return syscall.Open(resolved, flags|syscall.O_NOFOLLOW, 0)
}
