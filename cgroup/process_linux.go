package cgroup

import "golang.org/x/sys/unix"

// processAffinity counts the CPUs process pid's main thread may run on.
func processAffinity(pid int) (int, error) {
	var set unix.CPUSet
	if err := unix.SchedGetaffinity(pid, &set); err != nil {
		return 0, err
	}
	return set.Count(), nil
}
