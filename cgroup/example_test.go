package cgroup_test

import (
	"fmt"

	"github.com/govitals/vitals/cgroup"
)

// ExampleRead reads a fixture tree: a systemd service on cgroup v2 limited
// to 1.5 CPUs and 1 GiB. Without WithRoot, Read reports the running
// process's own limits.
func ExampleRead() {
	l := cgroup.Read(cgroup.WithRoot("testdata/layouts/v2-systemd"))
	fmt.Println("version:", l.Version)
	fmt.Println("cgroup:", l.CPUPath)
	fmt.Printf("cpu: %.1f from %s\n", l.CPU.Quota, l.CPU.QuotaPath)
	fmt.Printf("memory: %d MiB from %s\n", l.Memory.Max>>20, l.Memory.MaxPath)
	// Output:
	// version: v2
	// cgroup: /sys/fs/cgroup/system.slice/app.service
	// cpu: 1.5 from /sys/fs/cgroup/system.slice/app.service/cpu.max
	// memory: 1024 MiB from /sys/fs/cgroup/system.slice/app.service/memory.max
}

// ExampleRead_parentLimit shows the effective limit coming from a parent
// cgroup: the container allows 2 CPUs and 512 MiB, its pod 0.75 CPUs and
// 256 MiB.
func ExampleRead_parentLimit() {
	l := cgroup.Read(cgroup.WithRoot("testdata/layouts/v2-parent-lower"))
	fmt.Printf("cpu: %.2f from %s\n", l.CPU.Effective(), l.CPU.QuotaPath)
	fmt.Printf("memory: %d MiB from %s\n", l.Memory.Max>>20, l.Memory.MaxPath)
	// Output:
	// cpu: 0.75 from /sys/fs/cgroup/kubepods.slice/pod1.slice/cpu.max
	// memory: 256 MiB from /sys/fs/cgroup/kubepods.slice/pod1.slice/memory.max
}

// ExampleNewStatReader reads the throttling and memory counters of a
// fixture; a metrics exporter keeps the reader and calls Read per scrape.
func ExampleNewStatReader() {
	r, err := cgroup.NewStatReader(cgroup.WithRoot("testdata/layouts/v2-namespace"))
	if err != nil {
		fmt.Println(err)
	}
	defer r.Close()
	var s cgroup.Stats
	if err := r.Read(&s); err != nil {
		fmt.Println(err)
	}
	fmt.Printf("throttled %d of %d periods for %v; memory %d MiB\n",
		s.ThrottledPeriods, s.Periods, s.ThrottledTime, s.MemoryUsage>>20)
	// Output:
	// throttled 42 of 500 periods for 1.5s; memory 100 MiB
}
