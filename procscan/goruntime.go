package procscan

import (
	"fmt"
	"go/version"
	"math"
	"strconv"
	"strings"

	"github.com/govitals/vitals/cgroup"
)

// Settings is what a process runs with, predicted from outside: from its
// environment, its Go version and the default GODEBUG built into it, its
// cgroup, and whether it links vitals. A program that changes a setting
// in its own code is not seen.
type Settings struct {
	// GOMAXPROCS is the predicted value; 0 when unknown.
	GOMAXPROCS int `json:"gomaxprocs,omitempty"`
	// GOMAXPROCSSource is who chose it: "env", "runtime" or "vitals".
	GOMAXPROCSSource string `json:"gomaxprocs_source,omitempty"`
	// GOMAXPROCSRule says how, in one sentence.
	GOMAXPROCSRule string `json:"gomaxprocs_rule,omitempty"`
	// GOMEMLIMIT is the predicted soft limit in bytes, math.MaxInt64 for
	// none; 0 when unknown.
	GOMEMLIMIT int64 `json:"gomemlimit,omitempty"`
	// GOMEMLIMITSource is "env", "runtime" (none) or "vitals".
	GOMEMLIMITSource string `json:"gomemlimit_source,omitempty"`
	// GOMEMLIMITRule says how, in one sentence.
	GOMEMLIMITRule string `json:"gomemlimit_rule,omitempty"`
	// GOTRACEBACK is the predicted level; empty when unknown.
	GOTRACEBACK string `json:"gotraceback,omitempty"`
	// ContainerMaxProcs is the effective GODEBUG containermaxprocs ("1",
	// "0"), empty before Go 1.25, which has no such setting.
	ContainerMaxProcs string `json:"containermaxprocs,omitempty"`
}

// cgroupGOMAXPROCS is the Go version from which the runtime fits
// GOMAXPROCS to the cgroup CPU limit.
const cgroupGOMAXPROCS = "go1.25"

// memLimitVersion is the Go version that introduced GOMEMLIMIT.
const memLimitVersion = "go1.19"

// vitalsMemRatio is vitals' default GOMEMLIMIT share of the container.
const vitalsMemRatio = 0.9

// predict works out the settings of a process with Go version goVersion
// (as debug/buildinfo reports it, "go1.19.8"), built-in default GODEBUG
// defGODEBUG, environment env (nil when unreadable), cgroup limits lim,
// and vitals linked or not.
func predict(goVersion, defGODEBUG string, env map[string]string, lim cgroup.Limits, vitals bool) Settings {
	var s Settings
	gv := goVersion
	if version.Lang(gv) == "" {
		gv = "" // unknown or odd ("devel ..."): compare as unknown
	}
	atLeast := func(v string) bool { return gv != "" && version.Compare(gv, v) >= 0 }
	envKnown := env != nil

	// GODEBUG containermaxprocs: the environment wins over the default
	// built into the binary (go.mod's go line and //go:debug directives).
	if atLeast(cgroupGOMAXPROCS) {
		s.ContainerMaxProcs = "1"
		if v := godebugValue(defGODEBUG, "containermaxprocs"); v != "" {
			s.ContainerMaxProcs = v
		}
		if v := godebugValue(env["GODEBUG"], "containermaxprocs"); v != "" {
			s.ContainerMaxProcs = v
		}
	}

	aff := lim.CPU.Affinity
	quota := 0.0
	if lim.CPU.Limited && lim.CPU.Quota > 0 {
		quota = lim.CPU.Quota
	}
	fitted := func() int { // the runtime's rule since 1.25, and vitals' default
		n := aff
		if quota > 0 {
			q := max(int(math.Ceil(quota-1e-9)), 2)
			if n <= 0 || q < n {
				n = q
			}
		}
		return n
	}
	switch v, ok := env["GOMAXPROCS"]; {
	case !envKnown:
		s.GOMAXPROCSRule = "environment unreadable"
	case ok && validProcs(v) > 0:
		s.GOMAXPROCS, s.GOMAXPROCSSource = validProcs(v), "env"
		s.GOMAXPROCSRule = "GOMAXPROCS=" + v + " in the environment"
		if vitals {
			s.GOMAXPROCSRule += " (vitals leaves it)"
		}
	case vitals:
		s.GOMAXPROCS, s.GOMAXPROCSSource = fitted(), "vitals"
		s.GOMAXPROCSRule = "vitals fits it to the CPU quota, if any"
	case gv == "":
		s.GOMAXPROCSRule = "Go version unknown"
	case atLeast(cgroupGOMAXPROCS) && s.ContainerMaxProcs != "0":
		s.GOMAXPROCS, s.GOMAXPROCSSource = fitted(), "runtime"
		s.GOMAXPROCSRule = goVersion + " fits it to the CPU quota, if any (Go 1.25+)"
	case atLeast(cgroupGOMAXPROCS):
		s.GOMAXPROCS, s.GOMAXPROCSSource = aff, "runtime"
		s.GOMAXPROCSRule = "GODEBUG containermaxprocs=0: " + goVersion + " uses the CPU count and ignores the quota"
	default:
		s.GOMAXPROCS, s.GOMAXPROCSSource = aff, "runtime"
		s.GOMAXPROCSRule = goVersion + " uses the CPU count and ignores the CPU quota (cgroup-aware only from Go 1.25)"
	}

	var memMax uint64
	if lim.Memory.Limited {
		memMax = lim.Memory.Max
	}
	switch v, ok := env["GOMEMLIMIT"]; {
	case !envKnown:
		s.GOMEMLIMITRule = "environment unreadable"
	case gv != "" && !atLeast(memLimitVersion):
		s.GOMEMLIMIT, s.GOMEMLIMITSource = math.MaxInt64, "runtime"
		s.GOMEMLIMITRule = goVersion + " has no soft memory limit (GOMEMLIMIT came with Go 1.19)"
	case ok && v != "":
		n, valid := parseMemLimit(v)
		if !valid {
			s.GOMEMLIMITRule = fmt.Sprintf("GOMEMLIMIT=%q is not a value the runtime accepts", v)
			break
		}
		s.GOMEMLIMIT, s.GOMEMLIMITSource = n, "env"
		s.GOMEMLIMITRule = "GOMEMLIMIT=" + v + " in the environment"
	case vitals && memMax > 0:
		s.GOMEMLIMIT, s.GOMEMLIMITSource = int64(vitalsMemRatio*float64(memMax)), "vitals"
		s.GOMEMLIMITRule = "vitals sets it to 90% of the container's memory"
	case vitals:
		s.GOMEMLIMIT, s.GOMEMLIMITSource = math.MaxInt64, "vitals"
		s.GOMEMLIMITRule = "vitals leaves it off without one"
	default:
		s.GOMEMLIMIT, s.GOMEMLIMITSource = math.MaxInt64, "runtime"
		s.GOMEMLIMITRule = "not set, and the runtime never sets it from the container"
	}

	switch v := env["GOTRACEBACK"]; {
	case !envKnown:
	case v != "":
		s.GOTRACEBACK = v
	case vitals:
		s.GOTRACEBACK = "all"
	default:
		s.GOTRACEBACK = "single" // the runtime's default
	}
	return s
}

// validProcs parses GOMAXPROCS as the runtime does: a positive decimal;
// anything else is ignored (0).
func validProcs(v string) int {
	n, err := strconv.ParseInt(v, 10, 32)
	if err != nil || n <= 0 {
		return 0
	}
	return int(n)
}

// parseMemLimit parses GOMEMLIMIT as the runtime does: "off", or a
// non-negative integer with an optional B, KiB, MiB, GiB or TiB suffix.
func parseMemLimit(v string) (int64, bool) {
	if v == "off" {
		return math.MaxInt64, true
	}
	mult := uint64(1)
	for i, suf := range []string{"KiB", "MiB", "GiB", "TiB"} {
		if s, ok := strings.CutSuffix(v, suf); ok {
			v, mult = s, uint64(1)<<(10*(i+1))
			break
		}
	}
	if mult == 1 {
		v = strings.TrimSuffix(v, "B")
	}
	if v == "" || v[0] < '0' || v[0] > '9' {
		return 0, false
	}
	n, err := strconv.ParseUint(v, 10, 64)
	if err != nil || n > math.MaxInt64/mult {
		return 0, false
	}
	return int64(n * mult), true
}

// godebugValue returns key's value in a GODEBUG list ("a=1,b=0"); the last
// assignment wins, as in the runtime.
func godebugValue(list, key string) string {
	val := ""
	for kv := range strings.SplitSeq(list, ",") {
		if k, v, ok := strings.Cut(strings.TrimSpace(kv), "="); ok && k == key {
			val = v
		}
	}
	return val
}
