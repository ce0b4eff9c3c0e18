package cgroup

import (
	"path/filepath"
	"strconv"
)

// WithProcess makes [Read] and [NewStatReader] report the limits of
// process pid instead of the caller's: its /proc/PID/cgroup is read in
// place of /proc/self/cgroup, against the caller's /proc/self/mountinfo
// (both are in the caller's cgroup and mount namespaces, so they agree),
// and [CPU.Affinity] is pid's sched_getaffinity mask. Below a [WithRoot]
// fixture tree, /proc/PID/cgroup is read from the tree and the affinity is
// counted from its cpuset files. Reading another user's process needs the
// same permissions as reading its /proc/PID/cgroup (usually none). Cost:
// that of [Read], plus one sched_getaffinity.
func WithProcess(pid int) Option {
	return optionFunc(func(c *config) {
		if pid <= 0 {
			return
		}
		self := func() string { return filepath.Join(c.root, "proc", "self", "cgroup") }
		other := func() string { return filepath.Join(c.root, "proc", strconv.Itoa(pid), "cgroup") }
		c.readFile = func(name string) ([]byte, error) {
			if name == self() {
				name = other()
			}
			return readFileInto(c.root, name, &c.scratch)
		}
		if n, err := processAffinity(pid); err == nil && n > 0 {
			c.affinity = n
		}
	})
}
