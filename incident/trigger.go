package incident

import (
	"encoding/json"
	"fmt"
)

// Trigger is what started an incident capture.
type Trigger uint8

// The triggers. Each automatic one has a default threshold documented on the
// option that changes it; [Disable] turns one off.
const (
	// Memory: the Go runtime's memory (everything it mapped minus what it
	// returned to the OS, the figure GOMEMLIMIT bounds) reached
	// [MemoryThreshold] of the effective limit, or the cgroup's usage reached
	// [CgroupMemoryThreshold] of the container limit. The pre-OOM capture.
	Memory Trigger = iota
	// GC: the garbage collector used at least [GCThreshold] of all CPU
	// capacity over the [Window]: the death spiral near a memory limit.
	GC
	// Goroutines: a spike ([GoroutineSpike]) or the leak watchdog's suspicion
	// ([Monitor.Fire] from leak.OnReport).
	Goroutines
	// CPU: the cgroup throttled at least [CPUThrottle] of its periods, or the
	// process used at least [CPUSaturation] of its quota, over the [Window].
	// Its bundle adds a CPU profile of the next seconds ([CPUProfileFor]).
	CPU
	// Latency: the scheduler latency p99 (time runnable goroutines waited for
	// a thread) over the [Window] reached [LatencyThreshold].
	Latency
	// Manual: [Monitor.Capture], the admin POST route, or [OnSignal].
	Manual

	numTriggers
)

var triggerNames = [numTriggers]string{"memory", "gc", "goroutines", "cpu", "latency", "manual"}

// Triggers returns every trigger, in order.
func Triggers() []Trigger {
	out := make([]Trigger, numTriggers)
	for i := range out {
		out[i] = Trigger(i)
	}
	return out
}

// String returns the trigger's name: memory, gc, goroutines, cpu, latency or
// manual. It is the label value of vitals_incidents_total.
func (t Trigger) String() string {
	if t < numTriggers {
		return triggerNames[t]
	}
	return fmt.Sprintf("trigger(%d)", uint8(t))
}

// ParseTrigger returns the trigger named s (as [Trigger.String] prints it).
func ParseTrigger(s string) (Trigger, error) {
	for i, n := range triggerNames {
		if n == s {
			return Trigger(i), nil
		}
	}
	return 0, fmt.Errorf("incident: unknown trigger %q", s)
}

// MarshalText encodes the trigger as its name.
func (t Trigger) MarshalText() ([]byte, error) { return []byte(t.String()), nil }

// UnmarshalText decodes a trigger name.
func (t *Trigger) UnmarshalText(b []byte) error {
	v, err := ParseTrigger(string(b))
	if err != nil {
		return err
	}
	*t = v
	return nil
}

var _ json.Marshaler = Value{}

// Value is one reading compared with its threshold, such as the runtime's
// memory against the effective limit.
type Value struct {
	// Name says what was read, e.g. "go_memory_bytes".
	Name string `json:"name"`
	// Value is the reading.
	Value float64 `json:"value"`
	// Threshold is the value at which the trigger fires (0: none).
	Threshold float64 `json:"threshold,omitempty"`
	// Limit is what the threshold is a fraction of, when it is one (the
	// effective memory limit, the CPU quota).
	Limit float64 `json:"limit,omitempty"`
	// Unit is "bytes", "seconds", "ratio", "goroutines" or "cpus".
	Unit string `json:"unit"`
	// Fired reports whether this reading crossed its threshold.
	Fired bool `json:"fired,omitempty"`
}

// MarshalJSON writes the value with finite numbers (JSON has no Inf/NaN).
func (v Value) MarshalJSON() ([]byte, error) {
	type plain Value
	c := v
	c.Value, c.Threshold, c.Limit = finite(c.Value), finite(c.Threshold), finite(c.Limit)
	return json.Marshal((*plain)(&c))
}
