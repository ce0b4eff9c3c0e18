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

// readFileInto reads the whole of name into *scratch (grown as needed) with
// raw open/read/close: os.ReadFile would add an fstat and an epoll
// registration per file, which is most of the cost on cgroupfs.
// The result aliases *scratch and is valid until the next call.
func readFileInto(name string, scratch *[]byte) ([]byte, error) {
	fd, err := syscall.Open(name, syscall.O_RDONLY|syscall.O_CLOEXEC, 0)
	for err == syscall.EINTR {
		fd, err = syscall.Open(name, syscall.O_RDONLY|syscall.O_CLOEXEC, 0)
	}
	if err != nil {
		return nil, &fs.PathError{Op: "open", Path: name, Err: err}
	}
	defer syscall.Close(fd)
	b := (*scratch)[:0]
	for {
		if len(b) == cap(b) {
			if cap(b) >= maxFileSize {
				return nil, &fs.PathError{Op: "read", Path: name, Err: errTooLarge}
			}
			b = append(b, make([]byte, max(cap(b), 4096))...)[:len(b)]
		}
		n, err := syscall.Read(fd, b[len(b):cap(b)])
		if err == syscall.EINTR {
			continue
		}
		if err != nil {
			*scratch = b
			return nil, &fs.PathError{Op: "read", Path: name, Err: err}
		}
		if n == 0 {
			*scratch = b
			return b, nil
		}
		b = b[:len(b)+n]
	}
}
