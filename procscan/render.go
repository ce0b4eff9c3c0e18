package procscan

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/govitals/vitals/checklist"
)

// WriteJSON writes the report as one indented JSON object.
func (r *Report) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

// WriteText writes the report for people: a table with one line per Go
// process, then each process's settings, sockets and checklist rows (rules
// that cannot be judged from outside are left out), then what could not be
// read and a summary. color adds ANSI colours (pass it only for a terminal).
func (r *Report) WriteText(w io.Writer, color bool) error {
	var b strings.Builder
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "PID\tCOMMAND\tGO\tMODULE\tVITALS\tUPTIME\tRSS\tTHREADS\tCPU LIMIT\tMEMORY LIMIT\tSTATUS")
	for _, p := range r.Processes {
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\t%s\t%d\t%s\t%s\t%s\n", p.PID, clip(p.Command, 32), p.GoVersion,
			clip(moduleString(p), 48), yesNo(p.Vitals), durationString(p.Uptime), sizeString(p.RSS), p.Threads,
			cpuString(p), memString(p), strings.ToUpper(p.Status.String()))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, p := range r.Processes {
		fmt.Fprintf(&b, "\n%d %s: %s\n", p.PID, clip(p.Command, 100), strings.ToUpper(p.Status.String()))
		fmt.Fprintf(&b, "  binary:   %s, %s, %s\n", p.Exe, p.GoVersion, moduleString(p))
		fmt.Fprintf(&b, "  cgroup:   %s\n", cgroupString(p))
		fmt.Fprintf(&b, "  env:      %s\n", envString(p))
		s := p.Settings
		if s.GOMAXPROCS > 0 {
			fmt.Fprintf(&b, "  runtime:  GOMAXPROCS=%d (%s), GOMEMLIMIT=%s (%s), GOTRACEBACK=%s\n", s.GOMAXPROCS, s.GOMAXPROCSRule,
				limitString(s.GOMEMLIMIT), s.GOMEMLIMITRule, s.GOTRACEBACK)
		}
		for _, l := range p.Listeners {
			fmt.Fprintf(&b, "  listen:   %s %s\n", l.Addr, listenerString(l))
		}
		var rs []checklist.Result
		for _, res := range p.Results {
			if res.Status != checklist.Skip {
				rs = append(rs, res)
			}
		}
		var t strings.Builder
		if err := checklist.WriteText(&t, rs, color); err != nil {
			return err
		}
		for line := range strings.Lines(t.String()) {
			b.WriteString("  " + line)
		}
		for _, u := range p.Unreadable {
			fmt.Fprintf(&b, "  unreadable: %s\n", u)
		}
		for _, n := range p.Notes {
			fmt.Fprintf(&b, "  note: %s\n", n)
		}
	}
	if len(r.Skipped) > 0 {
		fmt.Fprintf(&b, "\nnot audited (%d):\n", len(r.Skipped))
		for _, s := range r.Skipped {
			fmt.Fprintf(&b, "  %d %s: %s\n", s.PID, s.Command, s.Reason)
		}
	}
	for _, wn := range r.Warnings {
		fmt.Fprintf(&b, "warning: %s\n", wn)
	}
	counts := map[checklist.Status]int{}
	for _, p := range r.Processes {
		counts[p.Status]++
	}
	fmt.Fprintf(&b, "\n%d Go processes: %d fail, %d warn, %d pass, %d not judged; %d processes scanned (%d not Go, %d kernel threads, %d exited meanwhile, %d not readable) in %s\n",
		len(r.Processes), counts[checklist.Fail], counts[checklist.Warn], counts[checklist.Pass], counts[checklist.Skip],
		r.Scanned, r.NotGo, r.Kernel, r.Gone, len(r.Skipped), r.Elapsed.Round(time.Millisecond))
	if len(r.Processes) > 0 {
		b.WriteString("Settings are predicted from each process's environment, Go version and cgroup: a program that calls runtime.GOMAXPROCS or debug.SetMemoryLimit itself is not seen.\n")
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n-1] + "…"
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

func moduleString(p Process) string {
	switch {
	case p.Module != "" && p.Version != "":
		return p.Module + "@" + p.Version
	case p.Module != "":
		return p.Module
	case p.Path != "":
		return p.Path + " (no module information)"
	}
	return "(no module information)"
}

func durationString(d time.Duration) string {
	switch {
	case d < 0:
		return "?"
	case d < time.Minute:
		return d.Round(time.Second).String()
	case d < time.Hour:
		return fmt.Sprintf("%dm", int(d.Minutes()))
	case d < 48*time.Hour:
		return fmt.Sprintf("%dh%02dm", int(d.Hours()), int(d.Minutes())%60)
	}
	return fmt.Sprintf("%dd", int(d.Hours()/24))
}

func cpuString(p Process) string {
	c := p.Cgroup.CPU
	switch {
	case c.Unknown != "":
		return "?"
	case c.Limited:
		return strings.TrimRight(strings.TrimRight(fmt.Sprintf("%.2f", c.Quota), "0"), ".") + " cores"
	}
	return "none"
}

func memString(p Process) string {
	m := p.Cgroup.Memory
	switch {
	case m.Unknown != "":
		return "?"
	case m.Limited:
		return sizeString(m.Max)
	}
	return "none"
}

func cgroupString(p Process) string {
	l := p.Cgroup
	s := fmt.Sprintf("%s, cpu %s (%s), memory %s (%s)", l.Version, orDash(l.CPUPath), cpuString(p), orDash(l.MemoryPath), memString(p))
	if l.CPU.Unknown != "" {
		s += "; CPU limit unknown: " + l.CPU.Unknown
	}
	if l.Memory.Unknown != "" {
		s += "; memory limit unknown: " + l.Memory.Unknown
	}
	return s
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func envString(p Process) string {
	if p.Env == nil {
		return "unreadable"
	}
	var parts []string
	for _, k := range envVars {
		if v, ok := p.Env[k]; ok {
			parts = append(parts, k+"="+v)
		}
	}
	if len(parts) == 0 {
		return "none of " + strings.Join(envVars, ", ") + " set"
	}
	return strings.Join(parts, " ")
}

func limitString(v int64) string {
	switch {
	case v == math.MaxInt64:
		return "off"
	case v <= 0:
		return "?"
	}
	return sizeString(uint64(v))
}

func listenerString(l Listener) string {
	switch {
	case l.NotProbed != "":
		return "(not probed: " + l.NotProbed + ")"
	case l.Error != "":
		return "(probe failed: " + l.Error + ")"
	case l.VitalsAdmin:
		return "vitals admin server, requires auth"
	case len(l.Debug) > 0:
		return "serves without auth: " + strings.Join(l.Debug, ", ")
	case l.Metrics:
		return "serves Go metrics at /metrics; no debug endpoint"
	}
	return "no debug endpoint"
}
