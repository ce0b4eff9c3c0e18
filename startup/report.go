package startup

import (
	"bytes"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/govitals/vitals/cgroup"
)

// ReportSchema is the version of the JSON layout of [Report]. It changes
// only when a field is renamed or removed; new fields may appear without a
// change.
const ReportSchema = 1

// Setting names used in [Decision.Setting].
const (
	SettingGOMAXPROCS  = "GOMAXPROCS"
	SettingGOMEMLIMIT  = "GOMEMLIMIT"
	SettingGOTRACEBACK = "GOTRACEBACK"
	SettingCrashOutput = "crash_output"
)

// Sources used in [Decision.Source]: where the new value came from.
const (
	// SourceEnv: an environment variable set by the operator; it always wins.
	SourceEnv = "env"
	// SourceCgroupV1 and SourceCgroupV2: a cgroup limit file (Decision.Path).
	SourceCgroupV1 = "cgroup v1"
	SourceCgroupV2 = "cgroup v2"
	// SourceCgroup: a cgroup limit whose hierarchy could not be told.
	SourceCgroup = "cgroup"
	// SourceRuntime: the Go runtime's own default, left in place.
	SourceRuntime = "runtime default"
	// SourcePolicy: a vitals policy (a Procs option, the traceback level).
	SourcePolicy = "policy"
	// SourceSystem: the machine's memory (/proc/meminfo).
	SourceSystem = "system"
	// SourceOption: an option given to Setup (CrashOutput).
	SourceOption = "option"
	// SourceNone: nothing to base a value on; the setting was left alone.
	SourceNone = "none"
)

// Decision is what Setup did, or would do, with one setting.
//
// JSON field names are stable (see [ReportSchema]):
//
//	setting  one of the Setting* constants
//	old      the value before, in the syntax of the environment variable
//	         ("off" for no memory limit; GOMEMLIMIT in bytes)
//	new      the value after (equal to old when nothing changed)
//	changed  whether Setup changes it
//	source   one of the Source* constants
//	path     the file the value was derived from, if any
//	reason   one human sentence
type Decision struct {
	Setting string `json:"setting"`
	Old     string `json:"old"`
	New     string `json:"new"`
	Changed bool   `json:"changed"`
	Source  string `json:"source"`
	Path    string `json:"path,omitempty"`
	Reason  string `json:"reason"`
}

// Report is the outcome of [Setup] or [Plan]. Its JSON form (encoding/json)
// has these stable fields:
//
//	schema       ReportSchema
//	dry_run      true when made by Plan (nothing was changed)
//	go_version   runtime.Version()
//	gomaxprocs   GOMAXPROCS in effect after Setup (for Plan: what Setup would set)
//	gomemlimit   GOMEMLIMIT in bytes, likewise; 9223372036854775807 = off
//	decisions    one Decision per setting, in a fixed order
//	cgroup       the cgroup.Limits that were read
//	warnings     full sentences about what looked wrong; omitted when none
type Report struct {
	Schema     int           `json:"schema"`
	DryRun     bool          `json:"dry_run"`
	GoVersion  string        `json:"go_version"`
	GOMAXPROCS int           `json:"gomaxprocs"`
	GOMEMLIMIT int64         `json:"gomemlimit"`
	Decisions  []Decision    `json:"decisions"`
	Cgroup     cgroup.Limits `json:"cgroup"`
	Warnings   []string      `json:"warnings,omitempty"`

	act       actions
	undo      *undoer
	watchDone <-chan struct{} // closed when the watcher exits; nil if none
}

// Undo restores every setting Setup changed (GOMAXPROCS, GOMEMLIMIT, the
// traceback level, crash output) and stops the goroutine that kept them
// current, waiting for it to exit. It is idempotent, safe on a nil or
// planned report, and may stop the world once (to restore GOMAXPROCS).
// GOMAXPROCS goes back to the runtime's automatic default when that gives
// the old value; the traceback level goes back to "single".
func (r *Report) Undo() {
	if r == nil || r.undo == nil {
		return
	}
	r.undo.run()
}

// Decision returns the decision about setting (one of the Setting*
// constants).
func (r *Report) Decision(setting string) (Decision, bool) {
	for _, d := range r.Decisions {
		if d.Setting == setting {
			return d, true
		}
	}
	return Decision{}, false
}

func (r *Report) setDecision(setting string, f func(*Decision)) {
	for i := range r.Decisions {
		if r.Decisions[i].Setting == setting {
			f(&r.Decisions[i])
		}
	}
}

func (r *Report) warnf(format string, args ...any) {
	r.Warnings = append(r.Warnings, fmt.Sprintf(format, args...))
}

// WriteText writes the report as a short table for people: a cgroup
// summary line, one row per setting, then the warnings.
func (r *Report) WriteText(w io.Writer) error {
	var b bytes.Buffer
	title := "vitals start-up report"
	if r.DryRun {
		title += " (dry run: nothing changed)"
	}
	fmt.Fprintf(&b, "%s, %s\n", title, r.GoVersion)
	fmt.Fprintf(&b, "%s\n\n", cgroupSummary(r.Cgroup))
	tw := tabwriter.NewWriter(&b, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "SETTING\tOLD\tNEW\tSOURCE\tWHY")
	for _, d := range r.Decisions {
		old, nw := d.Old, d.New
		if d.Setting == SettingGOMEMLIMIT {
			old, nw = memHuman(old), memHuman(nw)
		}
		if d.Changed {
			nw += " *"
		}
		src := d.Source
		if d.Path != "" {
			src += " " + d.Path
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", d.Setting, old, nw, src, d.Reason)
	}
	tw.Flush()
	if len(r.Warnings) > 0 {
		b.WriteString("\nwarnings:\n")
		for _, s := range r.Warnings {
			fmt.Fprintf(&b, "  - %s\n", s)
		}
	}
	_, err := w.Write(b.Bytes())
	return err
}

// String returns the text of [Report.WriteText].
func (r *Report) String() string {
	var b strings.Builder
	_ = r.WriteText(&b)
	return b.String()
}

func cgroupSummary(l cgroup.Limits) string {
	var v string
	switch l.Version {
	case cgroup.V1:
		v = "cgroup v1"
	case cgroup.V2:
		v = "cgroup v2"
	case cgroup.Hybrid:
		v = "cgroup hybrid"
	default:
		v = "cgroup unknown"
	}
	cpu := "no CPU quota"
	switch {
	case l.CPU.Limited:
		cpu = fmt.Sprintf("CPU quota %g", l.CPU.Quota)
	case l.CPU.Unknown != "":
		cpu = "CPU unknown (" + l.CPU.Unknown + ")"
	}
	if l.CPU.Affinity > 0 {
		cpu += fmt.Sprintf(", affinity %d CPUs", l.CPU.Affinity)
	}
	mem := "no memory limit"
	switch {
	case l.Memory.Limited:
		mem = "memory max " + formatBytes(int64(min(l.Memory.Max, math.MaxInt64)))
	case l.Memory.Unknown != "":
		mem = "memory unknown (" + l.Memory.Unknown + ")"
	}
	if l.Memory.High > 0 {
		mem += ", high " + formatBytes(int64(min(l.Memory.High, math.MaxInt64)))
	}
	return v + ": " + cpu + "; " + mem
}

// memHuman renders a GOMEMLIMIT decision value for people.
func memHuman(s string) string {
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return s
	}
	return formatBytes(n)
}

// formatBytes prints n with the largest binary unit that divides it, or
// with one decimal when none does ("270MiB", "1.5GiB", "1000B").
func formatBytes(n int64) string {
	units := []string{"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"}
	i, f := 0, float64(n)
	for f >= 1024 && i < len(units)-1 {
		f /= 1024
		i++
	}
	if i == 0 {
		return strconv.FormatInt(n, 10) + "B"
	}
	if f == math.Trunc(f) {
		return strconv.FormatFloat(f, 'f', 0, 64) + units[i]
	}
	return strconv.FormatFloat(f, 'f', 1, 64) + units[i]
}

// CgroupSummary is the one-line description of the cgroup limits that the
// text report starts with ("cgroup v2: CPU quota 1.5; memory max 300MiB").
func (r *Report) CgroupSummary() string {
	if r == nil {
		return ""
	}
	return cgroupSummary(r.Cgroup)
}

// NewHuman is d.New for people: GOMEMLIMIT in binary units ("270MiB"),
// every other setting as it is.
func (d Decision) NewHuman() string {
	if d.Setting == SettingGOMEMLIMIT {
		return memHuman(d.New)
	}
	return d.New
}
