package cgroup

import (
	"errors"
	"path/filepath"
	"syscall"

	"golang.org/x/sys/unix"
)

// openBelow opens name, a path below root, resolving it as if root were
// "/" (openat2 RESOLVE_IN_ROOT): a symbolic link to /proc/self/environ
// means root/proc/self/environ, and ".." stops at root. Kernels before 5.6
// lack openat2; there the path is resolved by hand and refused when a link
// leads out of the root.
func openBelow(root, name string, flags int) (int, error) {
	rel, err := filepath.Rel(root, name)
	if err != nil {
		return -1, err
	}
	dir, err := unix.Open(root, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return -1, err
	}
	defer unix.Close(dir)
	how := unix.OpenHow{Flags: uint64(flags), Resolve: unix.RESOLVE_IN_ROOT | unix.RESOLVE_NO_MAGICLINKS}
	for {
		fd, err := unix.Openat2(dir, rel, &how)
		switch {
		case err == unix.EINTR || err == unix.EAGAIN:
			continue
		case errors.Is(err, unix.ENOSYS) || errors.Is(err, unix.EPERM):
			return openBelowByHand(root, name, flags)
		}
		return fd, err
	}
}

// openBelowByHand resolves name's links and refuses a result outside root.
func openBelowByHand(root, name string, flags int) (int, error) {
	resolved, err := filepath.EvalSymlinks(name)
	if err != nil {
		return -1, err
	}
	realRoot, err := filepath.EvalSymlinks(root)
	if err != nil {
		return -1, err
	}
	if rel, err := filepath.Rel(realRoot, resolved); err != nil || rel == ".." || len(rel) > 2 && rel[:3] == ".."+string(filepath.Separator) {
		return -1, errOutsideRoot
	}
	return syscall.Open(resolved, flags|syscall.O_NOFOLLOW, 0)
}

var errOutsideRoot = errors.New("a symbolic link leads out of the root")
