package stacks

import (
	"fmt"
	"strconv"
)

// Default limits of [NewScanner], [Parse] and [GroupReader]. They bound
// the memory hostile input can make the parser use; raise them with
// [MaxFrames], [MaxProfileBytes] and [MaxProfileSamples].
const (
	// DefaultMaxFrames is how many frames a goroutine keeps (its own and
	// its ancestors' together). The runtime itself prints at most 100
	// frames per goroutine ("...N frames elided..." in the middle), so
	// real dumps never reach it; frames past it are counted in
	// [Goroutine.DroppedFrames] and [Stats.DroppedFrames].
	DefaultMaxFrames = 1024
	// DefaultMaxProfileBytes bounds a debug=0 protobuf profile, compressed
	// and decompressed: 64 MiB. A 100k-goroutine profile is well under 1 MiB.
	DefaultMaxProfileBytes = 64 << 20
	// DefaultMaxProfileSamples bounds the samples and the locations of a
	// debug=0 protobuf profile (each): 1<<18. A goroutine profile has one
	// sample per distinct stack and label set.
	DefaultMaxProfileSamples = 1 << 18
)

// ScanOption sets a limit of [NewScanner] and [Parse]. Every ScanOption is
// also a [GroupOption], so [GroupReader] takes it too.
type ScanOption interface {
	GroupOption
	applyScan(*scanConfig)
}

type scanConfig struct {
	maxFrames  int
	maxBytes   int64
	maxSamples int
}

func newScanConfig(opts []ScanOption) scanConfig {
	c := scanConfig{maxFrames: DefaultMaxFrames, maxBytes: DefaultMaxProfileBytes, maxSamples: DefaultMaxProfileSamples}
	for _, o := range opts {
		if o != nil {
			o.applyScan(&c)
		}
	}
	return c
}

type scanOpt func(*scanConfig)

func (f scanOpt) applyScan(c *scanConfig) { f(c) }
func (f scanOpt) apply(c *groupConfig)    { c.scan = append(c.scan, f) }

// MaxFrames sets how many frames one goroutine keeps, its ancestors'
// included (default [DefaultMaxFrames]; n <= 0 keeps the default). The
// frames past it are not kept, only counted.
func MaxFrames(n int) ScanOption {
	return scanOpt(func(c *scanConfig) {
		if n > 0 {
			c.maxFrames = n
		}
	})
}

// MaxProfileBytes sets how many bytes a debug=0 protobuf profile may hold,
// compressed and decompressed (default [DefaultMaxProfileBytes]; n <= 0
// keeps the default). A larger profile fails with an error that names the
// limit.
func MaxProfileBytes(n int64) ScanOption {
	return scanOpt(func(c *scanConfig) {
		if n > 0 {
			c.maxBytes = n
		}
	})
}

// MaxProfileSamples sets how many samples, and how many locations, a
// debug=0 protobuf profile may hold (default [DefaultMaxProfileSamples];
// n <= 0 keeps the default). The counts are read from the encoded profile
// before it is decoded, so a profile over the limit costs no more than its
// bytes.
func MaxProfileSamples(n int) ScanOption {
	return scanOpt(func(c *scanConfig) {
		if n > 0 {
			c.maxSamples = n
		}
	})
}

// Stats says what a parse read and what it could not. Nothing the parser
// recognises as a goroutine is dropped without being counted here.
type Stats struct {
	// Goroutines is the number of goroutines returned: goroutine blocks,
	// or records of a debug=1/debug=0 profile.
	Goroutines int `json:"goroutines"`
	// Unparsed counts lines that start like a goroutine header
	// ("goroutine N ") but could not be read as one; the block under each
	// is skipped. Goroutines+Unparsed is the number of such lines in the
	// input (for text dumps).
	Unparsed int `json:"unparsed"`
	// UnparsedExamples holds the first few unparsed header lines (at most
	// 3, each cut to 120 bytes).
	UnparsedExamples []string `json:"unparsed_examples,omitempty"`
	// Profiles counts the "goroutine profile: total N" lines of debug=1
	// input; StatedTotal sums their N and ProfileTotal the goroutines the
	// records read stand for. They differ when records were lost.
	Profiles     int `json:"profiles,omitempty"`
	StatedTotal  int `json:"stated_total,omitempty"`
	ProfileTotal int `json:"profile_total,omitempty"`
	// DroppedFrames counts frames not kept because a goroutine had more
	// than [MaxFrames].
	DroppedFrames int `json:"dropped_frames,omitempty"`
}

const maxExamples = 3

// Problems returns one sentence per thing the parse could not read or
// found inconsistent: unparsed goroutine headers, a debug=1 total that
// does not match its records, dropped frames. It is empty for a clean
// parse.
func (s Stats) Problems() []string {
	var out []string
	if s.Unparsed > 0 {
		p := fmt.Sprintf("%d goroutine block%s could not be parsed and %s skipped", s.Unparsed, plural(s.Unparsed), isAre(s.Unparsed, "was", "were"))
		for i, e := range s.UnparsedExamples {
			if i == 0 {
				p += ": "
			} else {
				p += ", "
			}
			p += strconv.Quote(e)
		}
		out = append(out, p)
	}
	if s.Profiles > 0 && s.StatedTotal != s.ProfileTotal {
		out = append(out, fmt.Sprintf("the profile states %d goroutines but its records hold %d", s.StatedTotal, s.ProfileTotal))
	}
	if s.DroppedFrames > 0 {
		out = append(out, fmt.Sprintf("%d frame%s dropped past the limit of frames per goroutine", s.DroppedFrames, plural(s.DroppedFrames)))
	}
	return out
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

func isAre(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
