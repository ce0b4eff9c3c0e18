package gctrace

import (
	"fmt"
	"time"
)

// The thresholds behind the hints. They are rules of thumb, chosen so a
// healthy service with default settings triggers none of them.
const (
	// hintGCCPU is the GC CPU share (percent since start) worth acting on.
	hintGCCPU = 10
	// hintForcedShare: forced cycles at least this share of all cycles.
	hintForcedShare = 0.10
	// hintPinnedShare: share of cycles pinned at the goal (see Summary.PinnedCycles).
	hintPinnedShare = 0.5
	// hintAssistShare: assist CPU as a share of mark CPU.
	hintAssistShare = 0.25
	// hintPauseP99 and hintPauseMax flag long stop-the-world pauses.
	hintPauseP99 = 10 * time.Millisecond
	hintPauseMax = 50 * time.Millisecond
	// hintRate is the cycles per second that means GC runs constantly.
	hintRate = 20
	// hintGoalNearLimit: heap goal this close to GOMEMLIMIT.
	hintGoalNearLimit = 0.95
	// hintMinRun: rates and CPU shares over less time than this are
	// start-up noise and give no hint.
	hintMinRun = time.Second
)

func hints(s *Summary) []Hint {
	var hs []Hint
	add := func(id, format string, args ...any) {
		hs = append(hs, Hint{ID: id, Text: fmt.Sprintf(format, args...)})
	}
	if s.Cycles == 0 {
		if s.Input.Lines > 0 {
			add("no-gctrace", "no gc lines in %d lines of input: run the program with GODEBUG=gctrace=1 (or use vitals gctrace -- CMD)", s.Input.Lines)
		}
		return hs
	}
	n := float64(s.Cycles)
	if s.Restarts > 0 {
		add("several-processes", "gc numbers started over %d times: this output mixes several Go processes (children inherit GODEBUG; \"go run\" traces the compiler too) or several runs, so rates and trends below blend them; build the program and trace the binary alone", s.Restarts)
	}
	pinned := s.PinnedCycles >= 3 && float64(s.PinnedCycles) >= hintPinnedShare*n

	if s.Forced >= 2 && float64(s.Forced) >= hintForcedShare*n {
		add("forced-gc", "%d of %d cycles were forced: something calls runtime.GC() or debug.FreeOSMemory(); each is a full, blocking collection the pacer would not have run — search the code and its dependencies for runtime.GC and debug.FreeOSMemory (or break on runtime.GC in a debugger) and remove the call", s.Forced, s.Cycles)
	}
	// The runtime's CPU share is since program start: over the first
	// second it is dominated by start-up and says little.
	settled := s.End >= hintMinRun
	if settled && s.GCCPUPercent >= hintGCCPU {
		if pinned {
			add("heap-pinned", "GC used %d%% of CPU with the heap pinned at its goal in %d of %d cycles: the memory limit (GOMEMLIMIT) or a very low GOGC sets the goal, so GC runs as soon as the heap grows a little; raise GOGC if it is low, raise GOMEMLIMIT if the container has room, or shrink the live heap — near the limit GC runs back to back", s.GCCPUPercent, s.PinnedCycles, s.Cycles)
		} else {
			add("gc-cpu", "GC used %d%% of CPU: trade memory for CPU — raise GOGC (e.g. GOGC=200 halves GC frequency) or set GOMEMLIMIT to ~90%% of the container's memory and raise GOGC; or allocate less (a heap profile's alloc_space shows where)", s.GCCPUPercent)
		}
	} else if pinned {
		add("heap-pinned", "the heap was pinned at its goal in %d of %d cycles (memory limit or low GOGC); GC CPU is still low (%d%%), but there is little headroom before GC runs continuously", s.PinnedCycles, s.Cycles, s.GCCPUPercent)
	}
	if lim := s.MemoryLimit; lim > 0 && s.GoalMax > uint64(lim) {
		add("over-limit", "the heap goal went to %s, above the memory limit %s: the live heap plus the runtime's other memory does not fit under GOMEMLIMIT, so the runtime let the heap exceed it rather than collect without end (GC is capped at about 50%% CPU); raise the limit or shrink the live heap", mib(s.GoalMax), mib(uint64(lim)))
	} else if lim > 0 && float64(s.GoalMax) >= hintGoalNearLimit*float64(lim) {
		add("goal-at-limit", "the heap goal reached %s, %.0f%% of the memory limit %s: the limit, not GOGC, decides when GC runs", mib(s.GoalMax), 100*float64(s.GoalMax)/float64(lim), mib(uint64(lim)))
	}
	mark := s.AssistCPU + s.BackgroundCPU + s.IdleCPU
	if s.Cycles >= 5 && mark > 0 && float64(s.AssistCPU) >= hintAssistShare*float64(mark) {
		add("assists", "mutator assists did %.0f%% of marking: goroutines that allocate are made to mark instead of running, which shows up as latency; allocate less during GC or give GC more room (higher GOGC/GOMEMLIMIT)", 100*float64(s.AssistCPU)/float64(mark))
	}
	if s.Pause.P99 >= hintPauseP99 || s.Pause.Max >= hintPauseMax {
		add("long-pauses", "stop-the-world pauses reach p99 %s, max %s (healthy is well under 1ms): usually the OS did not run the GC's threads — CPU throttling when GOMAXPROCS (%d) exceeds the container's CPU quota (set GOMAXPROCS from the cgroup), or an overloaded machine", fmtDur(s.Pause.P99), fmtDur(s.Pause.Max), s.ProcsMax)
	}
	if s.End-s.Start >= hintMinRun && s.CyclesPerSecond >= hintRate {
		add("frequent", "%.0f GC cycles per second (heap goal up to %s): allocation outruns the heap's headroom, so a cycle starts soon after the last one ends, each with its pauses and its mark work; raise GOGC, or set GOMEMLIMIT and a higher GOGC, or reuse allocations (sync.Pool, preallocated buffers)", s.CyclesPerSecond, mib(s.GoalMax))
	}
	if s.Cycles >= 10 && s.LiveLast >= 2*s.LiveFirst && s.LiveLast-s.LiveFirst >= 16<<20 && s.LiveGrowth > 0 && s.LiveGrowthR2 >= 0.8 {
		add("live-growth", "the live heap grew steadily from %s to %s (%s/s, r²=%.2f) without levelling off: if the load was steady this is a leak — compare two heap profiles (inuse_space) taken minutes apart", mib(s.LiveFirst), mib(s.LiveLast), mib(uint64(s.LiveGrowth)), s.LiveGrowthR2)
	}
	if s.Missing > 0 || s.Input.Malformed > 0 {
		add("lost-lines", "%d cycle numbers have no line and %d gc lines were damaged: output was cut off or other writes landed inside the runtime's lines; counts above are a lower bound", s.Missing, s.Input.Malformed)
	}
	return hs
}
