package stacks

import (
	"fmt"
	"io"
	"sort"

	"github.com/google/pprof/profile"
)

// parseProto reads a debug=0 goroutine profile (gzipped protobuf) and
// turns each sample into a Goroutine with Count set. The profile is read
// whole: that is what the protobuf encoding needs.
func parseProto(r io.Reader, s *Scanner) (gs []*Goroutine, err error) {
	defer func() {
		if e := recover(); e != nil { // google/pprof must not take the caller down
			gs, err = nil, fmt.Errorf("stacks: protobuf profile: %v", e)
		}
	}()
	p, err := profile.Parse(r)
	if err != nil {
		return nil, fmt.Errorf("stacks: protobuf profile: %w", err)
	}
	vi := 0
	for i, st := range p.SampleType {
		if st.Type == "goroutine" || st.Type == "goroutines" {
			vi = i
		}
	}
	for _, smp := range p.Sample {
		g := &Goroutine{Count: 1}
		if vi < len(smp.Value) {
			g.Count = int(min(max(smp.Value[vi], 0), 1<<31))
		}
		if len(smp.Label) > 0 {
			g.Labels = make(map[string]string, len(smp.Label))
			keys := make([]string, 0, len(smp.Label))
			for k := range smp.Label {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			for _, k := range keys {
				if v := smp.Label[k]; len(v) > 0 {
					g.Labels[k] = v[0]
				}
			}
		}
		for _, loc := range smp.Location {
			if loc == nil {
				continue
			}
			if len(loc.Line) == 0 {
				g.Frames = append(g.Frames, Frame{Func: "?", PC: loc.Address, NoArgs: true})
				g.hs = append(g.hs, fhash{fn: hashString("?")})
				continue
			}
			// Line[0] is the innermost (inlined) call.
			for j, ln := range loc.Line {
				fr := Frame{PC: loc.Address, NoArgs: true, Line: int(ln.Line), Inlined: j < len(loc.Line)-1}
				var h fhash
				if ln.Function != nil {
					fi := s.funcInfo([]byte(ln.Function.Name))
					s.setFunc(&fr, fi)
					h.fn = fi.hash
					fr.File = s.intern([]byte(ln.Function.Filename))
					h.file = hashString(fr.File)
				}
				g.Frames = append(g.Frames, fr)
				g.hs = append(g.hs, h)
			}
		}
		gs = append(gs, g)
	}
	return gs, nil
}
