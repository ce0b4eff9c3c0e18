//go:build !linux

package procscan

import "errors"

func affinity(int) (int, error) { return 0, errors.New("not supported on this platform") }
