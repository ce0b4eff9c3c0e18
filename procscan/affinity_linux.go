package procscan

import "golang.org/x/sys/unix"

// affinity counts the CPUs process pid may run on (its sched_getaffinity
// mask), which the runtime counts as the CPUs at start.
func affinity(pid int) (int, error) {
	var set unix.CPUSet
	if err := unix.SchedGetaffinity(pid, &set); err != nil {
		return 0, err
	}
	return set.Count(), nil
}
