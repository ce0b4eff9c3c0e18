package cgroup

import "golang.org/x/sys/unix"

// schedAffinity counts the CPUs this thread may run on. Go threads inherit
// the process mask; a program that narrows one thread's mask sees it here.
func schedAffinity() (int, error) {
	var set unix.CPUSet
	if err := unix.SchedGetaffinity(0, &set); err != nil {
		return 0, err
	}
	return set.Count(), nil
}
