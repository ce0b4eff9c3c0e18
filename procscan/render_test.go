package procscan

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"

	"github.com/govitals/vitals/cgroup"
	"github.com/govitals/vitals/internal/golden"
)

// fixedReport is a report as Scan builds it, from fixed facts: a Go 1.19
// prometheus in a 512 MiB group serving pprof on every interface, a vitals
// service, a process whose environment is unreadable, and one skipped.
func fixedReport() *Report {
	memGroup := cgroup.Limits{Version: cgroup.V1, CPUPath: "/sys/fs/cgroup/cpu", MemoryPath: "/sys/fs/cgroup/memory/prom",
		CPU:    cgroup.CPU{Affinity: 8},
		Memory: cgroup.Memory{Limited: true, Max: 512 << 20, MaxPath: "/sys/fs/cgroup/memory/prom/memory.limit_in_bytes"}}
	quota := cgroup.Limits{Version: cgroup.V2, CPUPath: "/sys/fs/cgroup/app", MemoryPath: "/sys/fs/cgroup/app",
		CPU:    cgroup.CPU{Limited: true, Quota: 2, QuotaPath: "/sys/fs/cgroup/app/cpu.max", Affinity: 8},
		Memory: cgroup.Memory{Limited: true, Max: 1 << 30, MaxPath: "/sys/fs/cgroup/app/memory.max"}}
	procs := []*Process{
		{PID: 812, Command: "/usr/bin/prometheus --web.listen-address=0.0.0.0:9090", Exe: "/usr/bin/prometheus", GoVersion: "go1.19.8",
			Path: "github.com/prometheus/prometheus/cmd/prometheus", Uptime: 26 * time.Hour, RSS: 180 << 20, Threads: 14,
			Cgroup: memGroup, Env: map[string]string{},
			Listeners: []Listener{{Addr: "[::]:9090", Probed: "http://[::1]:9090", Debug: []string{"/debug/pprof/", "/debug/pprof/heap"}, Metrics: true}}},
		{PID: 1300, Command: "/srv/shop", Exe: "/srv/shop", GoVersion: "go1.26.8", Path: "example.com/shop/cmd/shop", Module: "example.com/shop",
			Version: "v1.4.0", Vitals: true, Uptime: 90 * time.Second, RSS: 40 << 20, Threads: 9, Cgroup: quota,
			Env: map[string]string{"GOGC": "200"},
			Listeners: []Listener{
				{Addr: "127.0.0.1:6060", Probed: "http://127.0.0.1:6060", VitalsAdmin: true},
				{Addr: "10.0.0.7:8080", NotProbed: "bound to 10.0.0.7 only; vitals ps probes loopback only"}}},
		{PID: 2001, Command: "/opt/agent", Exe: "/opt/agent", GoVersion: "go1.24.2", Path: "example.com/agent", Module: "example.com/agent",
			Version: "(devel)", Uptime: 3 * time.Minute, RSS: 12 << 20, Threads: 6, Cgroup: quota,
			Env: map[string]string{"GOMEMLIMIT": "900MiB", "GOTRACEBACK": "all"}},
		{PID: 2002, Command: "/opt/other-user", Exe: "/opt/other-user", GoVersion: "go1.26.8", Path: "example.com/other", Module: "example.com/other",
			Version: "v0.1.0", Uptime: 3 * time.Minute, RSS: 12 << 20, Threads: 6, Cgroup: cgroup.Limits{CPU: cgroup.CPU{Unknown: "cgroup: read /proc/2002/cgroup: permission denied"}, Memory: cgroup.Memory{Unknown: "cgroup: read /proc/2002/cgroup: permission denied"}},
			Unreadable: []string{"environ: open /proc/2002/environ: permission denied", "file descriptors: open /proc/2002/fd: permission denied"}},
	}
	rep := &Report{Schema: JSONSchema, Scanned: 140, NotGo: 80, Kernel: 55, Gone: 1,
		Skipped: []Skipped{{PID: 1, Command: "systemd", Reason: "binary unreadable: readlink /proc/1/exe: permission denied"}},
		Elapsed: 123 * time.Millisecond}
	for _, p := range procs {
		p.Settings = predict(p.GoVersion, p.DefaultGODEBUG, p.Env, p.Cgroup, p.Vitals)
		p.judge()
		rep.Processes = append(rep.Processes, *p)
		rep.Status = max(rep.Status, p.Status)
	}
	rep.ExitCode = 2
	return rep
}

func TestWriteTextGolden(t *testing.T) {
	var b bytes.Buffer
	if err := fixedReport().WriteText(&b, false); err != nil {
		t.Fatal(err)
	}
	golden.Check(t, "testdata/ps.golden", b.Bytes())
}

func TestWriteJSONRoundTrip(t *testing.T) {
	rep := fixedReport()
	var b bytes.Buffer
	if err := rep.WriteJSON(&b); err != nil {
		t.Fatal(err)
	}
	var back Report
	if err := json.Unmarshal(b.Bytes(), &back); err != nil {
		t.Fatal(err)
	}
	if len(back.Processes) != 4 || back.Processes[0].Results[1].Status != rep.Processes[0].Results[1].Status ||
		back.Processes[0].Settings != rep.Processes[0].Settings || back.ExitCode != 2 {
		t.Errorf("JSON round trip lost data:\n%s", b.String())
	}
}
