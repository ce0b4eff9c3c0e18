package incident

import (
	"encoding/json"
	"time"

	"github.com/govitals/vitals/cgroup"
)

// Schema is the manifest's schema name; it changes when a field changes
// meaning.
const Schema = "vitals.incident/v1"

// The names of a bundle's parts (zip entries). A part is absent when it was
// skipped; the manifest's Parts say why.
const (
	PartManifest       = "manifest.json"       // Manifest as JSON
	PartTrace          = "flight.trace"        // flight recorder: go tool trace
	PartHeap           = "heap.pb.gz"          // go tool pprof (in-use and allocated)
	PartGoroutine      = "goroutine.pb.gz"     // go tool pprof
	PartGoroutines     = "goroutines.txt"      // debug=1, grouped with labels: vitals stacks
	PartGoroutinesFull = "goroutines-full.txt" // debug=2, every goroutine: vitals stacks
	PartGoroutineLeak  = "goroutineleak.pb.gz" // go tool pprof, where the runtime has it
	PartCPU            = "cpu.pb.gz"           // CPU triggers: go tool pprof
)

// Manifest describes a bundle; it is the bundle's manifest.json, written
// last.
type Manifest struct {
	Schema  string    `json:"schema"`
	Trigger Trigger   `json:"trigger"`
	Reason  string    `json:"reason"`
	Time    time.Time `json:"time"`
	// Finished is when the last part was written.
	Finished time.Time `json:"finished"`
	// Light says the bundle was made lighter because the process was close
	// to its memory limit (no full goroutine dump, no leak profile, no
	// compression).
	Light bool `json:"light,omitempty"`
	// Values are the readings that fired; Readings every reading at the
	// trigger, fired or not.
	Values   []Value `json:"values,omitempty"`
	Readings []Value `json:"readings,omitempty"`
	// Limits are the memory and CPU limits in force.
	Limits Limits `json:"limits"`
	// Goroutines is the goroutine count when the capture began.
	Goroutines int `json:"goroutines"`
	// History is one point a second up to the trigger (at most a minute).
	History []Point `json:"history,omitempty"`
	// Runtime is every runtime/metrics value at capture time; histograms are
	// summarised.
	Runtime map[string]any `json:"runtime,omitempty"`
	// Cgroup is what the cgroup files said, when readable.
	Cgroup *CgroupFacts `json:"cgroup,omitempty"`
	// Report is the start-up report given with WithReport.
	Report   json.RawMessage `json:"report,omitempty"`
	Versions Versions        `json:"versions"`
	Process  Process         `json:"process"`
	// Parts lists every part written, failed or skipped, in order.
	Parts []Part `json:"parts"`
	// Settings are the thresholds in force.
	Settings Settings `json:"settings"`
}

// Limits are the limits the memory and CPU triggers compare against.
type Limits struct {
	GOMEMLIMIT        uint64  `json:"gomemlimit,omitempty"`
	CgroupMemory      uint64  `json:"cgroup_memory,omitempty"`
	EffectiveMemory   uint64  `json:"effective_memory,omitempty"`
	CPUQuota          float64 `json:"cpu_quota,omitempty"`
	GOMAXPROCS        int     `json:"gomaxprocs"`
	CgroupVersion     string  `json:"cgroup_version,omitempty"`
	MemoryLimitPath   string  `json:"memory_limit_path,omitempty"`
	CPUQuotaLimitPath string  `json:"cpu_quota_path,omitempty"`
}

// Point is one second of the history before the trigger.
type Point struct {
	Time           time.Time `json:"time"`
	GoMemory       uint64    `json:"go_memory_bytes"`
	HeapLive       uint64    `json:"heap_live_bytes"`
	HeapGoal       uint64    `json:"heap_goal_bytes"`
	GCCycles       uint64    `json:"gc_cycles"`
	GCCPUSeconds   float64   `json:"gc_cpu_seconds"`
	TotalCPUSecs   float64   `json:"total_cpu_seconds"`
	ProcessCPUSecs float64   `json:"process_cpu_seconds"`
	GoroutinesMin  uint64    `json:"goroutines_min"`
	GoroutinesMax  uint64    `json:"goroutines_max"`
	Throttled      uint64    `json:"cpu_throttled_periods,omitempty"`
	Periods        uint64    `json:"cpu_periods,omitempty"`
}

// CgroupFacts are the cgroup's limits and counters at capture time.
type CgroupFacts struct {
	Limits cgroup.Limits `json:"limits"`
	Stats  cgroup.Stats  `json:"stats"`
}

// Versions identify what wrote the bundle.
type Versions struct {
	Go          string `json:"go"`
	GOOS        string `json:"goos"`
	GOARCH      string `json:"goarch"`
	Main        string `json:"main,omitempty"`
	MainVersion string `json:"main_version,omitempty"`
	Vitals      string `json:"vitals,omitempty"`
	Experiments string `json:"goexperiment,omitempty"`
}

// Process identifies the process.
type Process struct {
	PID      int      `json:"pid"`
	Args     []string `json:"args,omitempty"`
	Hostname string   `json:"hostname,omitempty"`
}

// Part is one entry of the bundle, or why it is missing.
type Part struct {
	Name  string        `json:"name"`
	Bytes int64         `json:"bytes,omitempty"`
	Took  time.Duration `json:"took_ns,omitempty"`
	// Skipped says why the part was not written (by design: over the
	// goroutine budget, near the memory limit, not in this Go).
	Skipped string `json:"skipped,omitempty"`
	// Error says why writing it failed; a failed part may be truncated.
	Error string `json:"error,omitempty"`
	// Note says what a reader must know about a written part (a trace held
	// since the flight recorder paused ends before the trigger).
	Note string `json:"note,omitempty"`
}

// Settings are the thresholds of a bundle's monitor.
type Settings struct {
	MemoryThreshold       float64       `json:"memory_threshold"`
	CgroupMemoryThreshold float64       `json:"cgroup_memory_threshold"`
	GCThreshold           float64       `json:"gc_threshold"`
	Window                time.Duration `json:"window_ns"`
	SpikeFactor           float64       `json:"spike_factor"`
	SpikeWithin           time.Duration `json:"spike_within_ns"`
	SpikeMin              int           `json:"spike_min"`
	Throttle              float64       `json:"cpu_throttle"`
	Saturation            float64       `json:"cpu_saturation"`
	Latency               time.Duration `json:"latency_ns"`
	GoroutineBudget       int           `json:"goroutine_budget"`
	CPUProfile            time.Duration `json:"cpu_profile_ns"`
}
