//go:build unix

package cgroup

import (
	"io/fs"
	"path/filepath"
	"syscall"
)

// statFile is a raw descriptor: pread on it costs one syscall and does not
// allocate, which *os.File.ReadAt cannot promise (it loops to fill the buffer).
type statFile int

const noFile statFile = -1

var errStatClosed = fs.ErrClosed

func openStat(c *config, p string) (statFile, error) {
	fd, err := syscall.Open(filepath.Join(c.root, filepath.FromSlash(p)), syscall.O_RDONLY|syscall.O_CLOEXEC, 0)
	if err != nil {
		return noFile, &fs.PathError{Op: "open", Path: p, Err: err}
	}
	return statFile(fd), nil
}

func pread(f statFile, b []byte) (int, error) {
	for {
		n, err := syscall.Pread(int(f), b, 0)
		if err == syscall.EINTR {
			continue
		}
		return n, err
	}
}

func closeStat(f statFile) error { return syscall.Close(int(f)) }
