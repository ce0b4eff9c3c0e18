//go:build !unix

package cgroup

import (
	"errors"
	"io/fs"
	"os"
)

type statFile int

const noFile statFile = -1

var errStatClosed = fs.ErrClosed

func openStat(c *config, p string) (statFile, error) {
	return noFile, &fs.PathError{Op: "open", Path: p, Err: errors.ErrUnsupported}
}

func pread(f statFile, b []byte) (int, error) { return 0, errors.ErrUnsupported }

func closeStat(f statFile) error { return nil }

func readFileInto(root, name string, scratch *[]byte) ([]byte, error) { return os.ReadFile(name) }
