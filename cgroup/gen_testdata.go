//go:build ignore

// gen_testdata writes the fixture trees under testdata/layouts: each is a
// root directory with proc/self/{cgroup,mountinfo} and the cgroup files a
// process in that layout would see. Regenerate with
//
//	go run gen_testdata.go
//
// Files are written as given; a name ending in "/" is a directory (used to
// make a read fail where a file is expected).
package main

import (
	"fmt"
	"log"
	"os"
	"path/filepath"
	"strings"
)

const (
	sentinel4K  = "9223372036854771712" // LONG_MAX rounded down to 4 KiB pages
	sentinel64K = "9223372036854710272" // LONG_MAX rounded down to 64 KiB pages
	mib         = 1 << 20
)

// base is the non-cgroup part of a typical container mountinfo.
const base = `1100 1000 0:90 / / rw,relatime master:400 - overlay overlay rw,lowerdir=/l,upperdir=/u,workdir=/w
1101 1100 0:93 / /proc rw,nosuid,nodev,noexec,relatime - proc proc rw
1102 1100 0:94 / /dev rw,nosuid - tmpfs tmpfs rw,size=65536k,mode=755
1103 1100 0:95 / /sys ro,nosuid,nodev,noexec,relatime - sysfs sysfs ro
1104 1103 0:96 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime - tmpfs tmpfs rw,mode=755
`

func v1(id int, root, mnt, ctl string) string {
	return fmt.Sprintf("%d 1104 0:%d %s %s ro,nosuid,nodev,noexec,relatime master:%d - cgroup cgroup rw,%s\n", id, id, root, mnt, id, ctl)
}

func v2(id int, root, mnt string) string {
	return fmt.Sprintf("%d 1103 0:%d %s %s rw,nosuid,nodev,noexec,relatime shared:%d - cgroup2 cgroup2 rw,nsdelegate,memory_recursiveprot\n", id, id, root, mnt, id)
}

func n(v int64) string { return fmt.Sprintf("%d\n", v) }

// files maps a path below the fixture root to its content.
type files map[string]string

func layouts() map[string]files {
	v1Hybrid := func(cpuPath, memPath string) files {
		return files{
			"proc/self/cgroup": "12:pids:/\n11:name=systemd:/\n4:memory:" + memPath + "\n3:cpuset:/\n2:cpu,cpuacct:" + cpuPath + "\n0::/user.slice/session-1.scope\n",
			"proc/self/mountinfo": base + v1(1110, "/", "/sys/fs/cgroup/cpu,cpuacct", "cpu,cpuacct") +
				v1(1111, "/", "/sys/fs/cgroup/memory", "memory") + v1(1112, "/", "/sys/fs/cgroup/cpuset", "cpuset") +
				v2(1113, "/", "/sys/fs/cgroup/unified"),
		}
	}
	v2At := func(cg string) files {
		return files{
			"proc/self/cgroup":    "0::" + cg + "\n",
			"proc/self/mountinfo": base + v2(1120, "/", "/sys/fs/cgroup"),
		}
	}
	// v2ns is a container with a private cgroup namespace: 0::/ and the
	// mount root is the container's cgroup.
	v2ns := func(cpuMax, memMax string) files {
		f := v2At("/")
		f["sys/fs/cgroup/cgroup.type"] = "domain\n"
		f["sys/fs/cgroup/cgroup.controllers"] = "cpuset cpu io memory pids\n"
		if cpuMax != "" {
			f["sys/fs/cgroup/cpu.max"] = cpuMax
		}
		if memMax != "" {
			f["sys/fs/cgroup/memory.max"] = memMax
		}
		f["sys/fs/cgroup/memory.high"] = "max\n"
		f["sys/fs/cgroup/cpu.stat"] = "usage_usec 123456\nuser_usec 100000\nsystem_usec 23456\nnr_periods 500\nnr_throttled 42\nthrottled_usec 1500000\nnr_bursts 0\nburst_usec 0\n"
		f["sys/fs/cgroup/memory.current"] = "104857600\n"
		return f
	}
	// v1ns is a container with a private cgroup namespace on v1: every
	// controller shows "/" and the mounts' root is "/".
	v1ns := func(quota, period, limit string) files {
		f := files{
			"proc/self/cgroup": "5:memory:/\n3:cpuset:/\n2:cpu,cpuacct:/\n1:name=systemd:/\n",
			"proc/self/mountinfo": base + v1(1110, "/", "/sys/fs/cgroup/cpu,cpuacct", "cpu,cpuacct") +
				v1(1111, "/", "/sys/fs/cgroup/memory", "memory") + v1(1112, "/", "/sys/fs/cgroup/cpuset", "cpuset"),
			"sys/fs/cgroup/cpu,cpuacct/cpu.stat":              "nr_periods 1000\nnr_throttled 10\nthrottled_time 2500000000\n",
			"sys/fs/cgroup/memory/memory.usage_in_bytes":      "52428800\n",
			"sys/fs/cgroup/memory/memory.stat":                "cache 0\nrss 52428800\nhierarchical_memory_limit " + sentinel4K + "\n",
			"sys/fs/cgroup/cpuset/cpuset.effective_cpus":      "0-7\n",
			"sys/fs/cgroup/cpuset/cpuset.cpus":                "0-7\n",
			"sys/fs/cgroup/cpu,cpuacct/cgroup.procs":          "1\n",
			"sys/fs/cgroup/memory/cgroup.procs":               "1\n",
			"sys/fs/cgroup/cpu,cpuacct/cpu.cfs_period_us":     period,
			"sys/fs/cgroup/cpu,cpuacct/cpu.cfs_quota_us":      quota,
			"sys/fs/cgroup/memory/memory.limit_in_bytes":      limit,
			"sys/fs/cgroup/cpu,cpuacct/notify_on_release":     "0\n",
			"sys/fs/cgroup/memory/memory.soft_limit_in_bytes": sentinel4K + "\n",
		}
		return f
	}
	set := func(f files, kv ...string) files {
		for i := 0; i+1 < len(kv); i += 2 {
			if kv[i+1] == "<delete>" {
				delete(f, kv[i])
			} else {
				f[kv[i]] = kv[i+1]
			}
		}
		return f
	}

	l := map[string]files{}

	// v1 without a cgroup namespace: /proc/self/cgroup shows the host path,
	// and the mount root is that same container path (docker's default on
	// v1), so only the leaf is visible at the mount point.
	l["v1-no-namespace"] = files{
		"proc/self/cgroup": "11:memory:/docker/0123abcd\n4:cpu,cpuacct:/docker/0123abcd\n2:cpuset:/docker/0123abcd\n1:name=systemd:/docker/0123abcd\n",
		"proc/self/mountinfo": base + v1(1110, "/docker/0123abcd", "/sys/fs/cgroup/cpu,cpuacct", "cpu,cpuacct") +
			v1(1111, "/docker/0123abcd", "/sys/fs/cgroup/memory", "memory") + v1(1112, "/docker/0123abcd", "/sys/fs/cgroup/cpuset", "cpuset"),
		"sys/fs/cgroup/cpu,cpuacct/cpu.cfs_quota_us":  n(200000),
		"sys/fs/cgroup/cpu,cpuacct/cpu.cfs_period_us": n(100000),
		"sys/fs/cgroup/memory/memory.limit_in_bytes":  n(512 * mib),
		"sys/fs/cgroup/memory/memory.stat":            "rss 1\nhierarchical_memory_limit " + n(512*mib),
		"sys/fs/cgroup/cpuset/cpuset.effective_cpus":  "0-3\n",
	}
	// v1 with a namespace; the kernel's hierarchical_memory_limit reveals a
	// lower limit set above the namespace root.
	l["v1-namespace"] = set(v1ns(n(50000), n(100000), n(1024*mib)),
		"sys/fs/cgroup/memory/memory.stat", "cache 0\nrss 1\nhierarchical_memory_limit "+n(256*mib))
	l["v1-quota-1.5"] = v1ns(n(150000), n(100000), n(300*mib))
	l["v1-cpuset-smaller-than-quota"] = set(v1ns(n(400000), n(100000), n(mib)),
		"sys/fs/cgroup/cpuset/cpuset.effective_cpus", "2-3\n", "sys/fs/cgroup/cpuset/cpuset.cpus", "0-7\n")
	l["v1-unlimited"] = v1ns("-1\n", n(100000), sentinel4K+"\n")
	l["v1-unlimited-mem-64k"] = set(v1ns("-1\n", n(100000), sentinel64K+"\n"),
		"sys/fs/cgroup/memory/memory.stat", "hierarchical_memory_limit "+sentinel64K+"\n")
	// v1 parent lower than leaf: no namespace, mount root "/", so the
	// kubepods ancestors are visible.
	{
		f := v1Hybrid("/kubepods/burstable/pod1/ctr", "/kubepods/burstable/pod1/ctr")
		d := "sys/fs/cgroup/cpu,cpuacct"
		m := "sys/fs/cgroup/memory"
		set(f,
			d+"/cpu.cfs_quota_us", "-1\n", d+"/cpu.cfs_period_us", n(100000),
			d+"/kubepods/cpu.cfs_quota_us", "-1\n", d+"/kubepods/cpu.cfs_period_us", n(100000),
			d+"/kubepods/burstable/cpu.cfs_quota_us", "-1\n", d+"/kubepods/burstable/cpu.cfs_period_us", n(100000),
			d+"/kubepods/burstable/pod1/cpu.cfs_quota_us", n(50000), d+"/kubepods/burstable/pod1/cpu.cfs_period_us", n(50000),
			d+"/kubepods/burstable/pod1/ctr/cpu.cfs_quota_us", n(400000), d+"/kubepods/burstable/pod1/ctr/cpu.cfs_period_us", n(100000),
			m+"/memory.limit_in_bytes", sentinel4K+"\n",
			m+"/kubepods/memory.limit_in_bytes", n(8192*mib),
			m+"/kubepods/burstable/memory.limit_in_bytes", sentinel4K+"\n",
			m+"/kubepods/burstable/pod1/memory.limit_in_bytes", n(200*mib),
			m+"/kubepods/burstable/pod1/ctr/memory.limit_in_bytes", n(1024*mib),
			m+"/kubepods/burstable/pod1/ctr/memory.stat", "hierarchical_memory_limit "+n(200*mib),
			"proc/self/cgroup", "4:memory:/kubepods/burstable/pod1/ctr\n2:cpu,cpuacct:/kubepods/burstable/pod1/ctr\n",
		)
		l["v1-parent-lower"] = f
	}
	// hybrid: systemd's hybrid mode, v1 cpu and memory plus cgroup2 at
	// /sys/fs/cgroup/unified; the v2 cpu.max there must be ignored.
	{
		f := v1Hybrid("/system.slice/app.service", "/system.slice/app.service")
		set(f,
			"sys/fs/cgroup/cpu,cpuacct/system.slice/app.service/cpu.cfs_quota_us", n(300000),
			"sys/fs/cgroup/cpu,cpuacct/system.slice/app.service/cpu.cfs_period_us", n(100000),
			"sys/fs/cgroup/cpu,cpuacct/system.slice/app.service/cpu.stat", "nr_periods 7\nnr_throttled 3\nthrottled_time 1000\n",
			"sys/fs/cgroup/memory/system.slice/app.service/memory.limit_in_bytes", n(2048*mib),
			"sys/fs/cgroup/memory/system.slice/app.service/memory.usage_in_bytes", n(64*mib),
			"sys/fs/cgroup/unified/user.slice/session-1.scope/cgroup.type", "domain\n",
			"sys/fs/cgroup/unified/user.slice/session-1.scope/cpu.max", "10000 100000\n",
			"sys/fs/cgroup/cpuset/cpuset.effective_cpus", "0-15\n",
		)
		l["hybrid"] = f
	}
	l["v2-namespace"] = v2ns("max 100000\n", n(768*mib))
	l["v2-unlimited"] = v2ns("max 100000\n", "max\n")
	l["v2-high-below-max"] = set(v2ns("200000 100000\n", n(1024*mib)), "sys/fs/cgroup/memory.high", n(800*mib))
	l["v2-cpuset-smaller-than-quota"] = set(v2ns("400000 100000\n", "max\n"), "sys/fs/cgroup/cpuset.cpus.effective", "0-1\n", "sys/fs/cgroup/cpuset.cpus", "\n")
	l["v2-missing-controller-files"] = set(v2ns("", ""), "sys/fs/cgroup/memory.high", "<delete>")
	// v2 without a namespace: a systemd service seen from the host.
	{
		f := v2At("/system.slice/app.service")
		c := "sys/fs/cgroup"
		set(f,
			c+"/cgroup.controllers", "cpuset cpu io memory pids\n",
			c+"/cpu.stat", "usage_usec 1\n",
			c+"/system.slice/cgroup.type", "domain\n",
			c+"/system.slice/cpu.max", "max 100000\n",
			c+"/system.slice/memory.max", "max\n",
			c+"/system.slice/app.service/cgroup.type", "domain\n",
			c+"/system.slice/app.service/cpu.max", "150000 100000\n",
			c+"/system.slice/app.service/memory.max", n(1024*mib),
			c+"/system.slice/app.service/memory.high", "max\n",
			c+"/system.slice/app.service/cpu.stat", "usage_usec 10\nnr_periods 20\nnr_throttled 5\nthrottled_usec 30\n",
			c+"/system.slice/app.service/memory.current", n(10*mib),
		)
		l["v2-systemd"] = f
	}
	{
		f := v2At("/kubepods.slice/pod1.slice/ctr.scope")
		c := "sys/fs/cgroup"
		set(f,
			c+"/kubepods.slice/cgroup.type", "domain\n",
			c+"/kubepods.slice/cpu.max", "max 100000\n",
			c+"/kubepods.slice/memory.max", n(4096*mib),
			c+"/kubepods.slice/memory.high", n(3000*mib),
			c+"/kubepods.slice/pod1.slice/cgroup.type", "domain\n",
			c+"/kubepods.slice/pod1.slice/cpu.max", "75000 100000\n",
			c+"/kubepods.slice/pod1.slice/memory.max", n(256*mib),
			c+"/kubepods.slice/pod1.slice/memory.high", "max\n",
			c+"/kubepods.slice/pod1.slice/ctr.scope/cgroup.type", "domain\n",
			c+"/kubepods.slice/pod1.slice/ctr.scope/cpu.max", "200000 100000\n",
			c+"/kubepods.slice/pod1.slice/ctr.scope/memory.max", n(512*mib),
			c+"/kubepods.slice/pod1.slice/ctr.scope/memory.high", "max\n",
		)
		l["v2-parent-lower"] = f
	}
	// A process in the root cgroup of a v2 host: the root has no limit
	// files and no cgroup.type, and its cpu.stat has no CFS counters.
	l["v2-host-root"] = set(v2At("/"),
		"sys/fs/cgroup/cgroup.controllers", "cpuset cpu io memory pids\n",
		"sys/fs/cgroup/cgroup.subtree_control", "cpu memory pids\n",
		"sys/fs/cgroup/cpu.stat", "usage_usec 9000\nuser_usec 8000\nsystem_usec 1000\n",
	)
	// The process's cgroup is outside its cgroup namespace: no mount can
	// reach it.
	l["v2-outside-namespace"] = set(v2ns("100000 100000\n", n(mib)), "proc/self/cgroup", "0::/../../init.scope\n")
	// The same, but a second mount whose root is above the namespace can
	// reach it (the runtime's "/../.." example).
	l["v2-outside-namespace-reachable"] = set(v2At("/../../init.scope"),
		"proc/self/mountinfo", base+v2(1120, "/", "/sys/fs/cgroup")+v2(1121, "/../..", "/host/cgroup"),
		"host/cgroup/init.scope/cgroup.type", "domain\n",
		"host/cgroup/init.scope/cpu.max", "50000 100000\n",
		"host/cgroup/init.scope/memory.max", n(100*mib),
	)
	// Escaped mount point: a space (\040) in it (a backslash, \134, is tested
	// in the parser tests: module zips do not allow it in file names).
	l["escaped-mount-path"] = files{
		"proc/self/cgroup":                "0::/app\n",
		"proc/self/mountinfo":             base + v2(1120, `/`, `/mnt/cgroup\040root`),
		"mnt/cgroup root/app/cgroup.type": "domain\n",
		"mnt/cgroup root/app/cpu.max":     "250000 100000\n",
		"mnt/cgroup root/app/memory.max":  n(64 * mib),
	}
	// Several optional fields before the separator, and one line with none.
	l["mountinfo-optional-fields"] = files{
		"proc/self/cgroup": "7:memory:/svc\n6:cpu,cpuacct:/svc\n",
		"proc/self/mountinfo": base +
			"1110 1104 0:50 / /sys/fs/cgroup/cpu,cpuacct rw,nosuid shared:7 master:3 propagate_from:2 unbindable - cgroup cgroup rw,cpu,cpuacct\n" +
			"1111 1104 0:51 / /sys/fs/cgroup/memory rw,nosuid - cgroup cgroup rw,memory\n",
		"sys/fs/cgroup/cpu,cpuacct/svc/cpu.cfs_quota_us":  n(25000),
		"sys/fs/cgroup/cpu,cpuacct/svc/cpu.cfs_period_us": n(100000),
		"sys/fs/cgroup/memory/svc/memory.limit_in_bytes":  n(32 * mib),
	}
	// Garbage, one file at a time.
	l["garbage-proc-cgroup"] = set(v2ns("100000 100000\n", n(mib)), "proc/self/cgroup", "\x00\x01 not a cgroup file\n")
	l["garbage-mountinfo"] = set(v2ns("100000 100000\n", n(mib)), "proc/self/mountinfo", "this is not mountinfo\n42\n")
	l["garbage-cpu-max"] = v2ns("lots 100000\n", n(mib))
	l["garbage-memory-max"] = v2ns("100000 100000\n", "-5\n")
	l["garbage-memory-high"] = set(v2ns("100000 100000\n", n(mib)), "sys/fs/cgroup/memory.high", "high\n")
	l["garbage-cfs-quota"] = v1ns("1.5\n", n(100000), n(mib))
	l["garbage-cfs-period"] = v1ns(n(100000), "0\n", n(mib))
	l["garbage-limit-in-bytes"] = set(v1ns(n(100000), n(100000), "unlimited\n"),
		"sys/fs/cgroup/memory/memory.stat", "hierarchical_memory_limit banana\n")
	l["garbage-cpuset"] = set(v2ns("400000 100000\n", n(mib)), "sys/fs/cgroup/cpuset.cpus.effective", "3-1\n")
	l["empty-files"] = set(v2ns("", ""), "sys/fs/cgroup/cpu.max", "", "sys/fs/cgroup/memory.max", "", "sys/fs/cgroup/memory.high", "")
	// A directory where memory.max should be: reading fails with EISDIR.
	l["unreadable-dir-as-file"] = set(v2ns("100000 100000\n", ""), "sys/fs/cgroup/memory.max/", "")
	return l
}

func main() {
	out := filepath.Join("testdata", "layouts")
	if err := os.RemoveAll(out); err != nil {
		log.Fatal(err)
	}
	for name, fs := range layouts() {
		for p, content := range fs {
			full := filepath.Join(out, name, filepath.FromSlash(p))
			if strings.HasSuffix(p, "/") {
				if err := os.MkdirAll(full, 0o755); err != nil {
					log.Fatal(err)
				}
				// git keeps no empty directory.
				if err := os.WriteFile(filepath.Join(full, ".keep"), nil, 0o644); err != nil {
					log.Fatal(err)
				}
				continue
			}
			if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
				log.Fatal(err)
			}
			if err := os.WriteFile(full, []byte(content), 0o644); err != nil {
				log.Fatal(err)
			}
		}
	}
}
