//go:build unix

package main

import (
	"os"

	"golang.org/x/sys/unix"
)

// isatty asks the terminal driver about f's termios, as isatty(3) does.
func isatty(f *os.File) bool {
	_, err := unix.IoctlGetTermios(int(f.Fd()), ioctlGetTermios)
	return err == nil
}
