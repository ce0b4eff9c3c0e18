//go:build !linux

package cgroup

import "errors"

func processAffinity(int) (int, error) { return 0, errors.New("not supported on this platform") }
