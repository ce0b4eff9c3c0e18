//go:build unix

package cgroup

import (
	"errors"
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
	fd, err := openFile(c.root, filepath.Join(c.root, filepath.FromSlash(p)))
	if err != nil {
		return noFile, &fs.PathError{Op: "open", Path: p, Err: err}
	}
	return statFile(fd), nil
}

// errNotRegular refuses a FIFO, socket or device named like a cgroup file:
// reading one could block forever or never end.
var errNotRegular = errors.New("not a regular file")

// openFile opens name (a path below root) for reading without blocking
// (a FIFO does not hang the open) and only if it is a regular file. Below
// a root other than "/", symbolic links resolve inside the root, never out
// of it (see openBelow).
func openFile(root, name string) (int, error) {
	const flags = syscall.O_RDONLY | syscall.O_CLOEXEC | syscall.O_NONBLOCK | syscall.O_NOCTTY
	var (
		fd  int
		err error
	)
	if filepath.Clean(root) == "/" {
		fd, err = syscall.Open(name, flags, 0)
		for err == syscall.EINTR {
			fd, err = syscall.Open(name, flags, 0)
		}
	} else {
		fd, err = openBelow(root, name, flags)
	}
	if err != nil {
		return -1, err
	}
	var st syscall.Stat_t
	if err := syscall.Fstat(fd, &st); err != nil {
		syscall.Close(fd)
		return -1, err
	}
	if st.Mode&syscall.S_IFMT != syscall.S_IFREG {
		syscall.Close(fd)
		return -1, errNotRegular
	}
	return fd, nil
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
func readFileInto(root, name string, scratch *[]byte) ([]byte, error) {
	fd, err := openFile(root, name)
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
		if err == syscall.EAGAIN {
			// Only a non-regular file says "try again", and those were
			// refused; never wait here.
			err = errNotRegular
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
