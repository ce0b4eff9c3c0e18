package stacks

import (
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"sort"

	"github.com/google/pprof/profile"
)

// ErrTooLarge is returned (wrapped) when input exceeds a limit set by
// [MaxProfileBytes] or [MaxProfileSamples]; the message names the limit
// and the option that raises it.
var ErrTooLarge = errors.New("stacks: input exceeds a limit")

// readProfile reads the gzipped profile from r and decompresses it, each
// within c.maxBytes, and checks its sample and location counts against
// c.maxSamples before anything is decoded.
func readProfile(r io.Reader, c *scanConfig) ([]byte, error) {
	zr, err := gzip.NewReader(&limitedReader{r: r, n: c.maxBytes, max: c.maxBytes, what: "compressed"})
	if err != nil {
		return nil, err
	}
	// Read in chunks and copy once: a doubling buffer would peak at
	// three times the limit.
	lr := &limitedReader{r: zr, n: c.maxBytes, max: c.maxBytes, what: "decompressed"}
	var chunks [][]byte
	total := 0
	for {
		chunk := make([]byte, 1<<20)
		n, err := io.ReadFull(lr, chunk)
		chunks = append(chunks, chunk[:n])
		total += n
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			break
		}
		if err != nil {
			return nil, err
		}
	}
	data := make([]byte, 0, total)
	for _, c := range chunks {
		data = append(data, c...)
	}
	samples, locs, err := countProto(data)
	if err != nil {
		return nil, err
	}
	if samples > c.maxSamples || locs > c.maxSamples {
		return nil, fmt.Errorf("%w: the profile holds %d samples and %d locations, over the limit of %d (stacks.MaxProfileSamples)", ErrTooLarge, samples, locs, c.maxSamples)
	}
	return data, nil
}

// limitedReader fails once more than n bytes are read through it.
type limitedReader struct {
	r      io.Reader
	n, max int64
	what   string
}

func (l *limitedReader) Read(p []byte) (int, error) {
	if l.n < 0 {
		return 0, l.err()
	}
	if int64(len(p)) > l.n+1 {
		p = p[:l.n+1]
	}
	n, err := l.r.Read(p)
	l.n -= int64(n)
	if l.n < 0 {
		return n, l.err()
	}
	return n, err
}

func (l *limitedReader) err() error {
	return fmt.Errorf("%w: %s profile exceeds %s (stacks.MaxProfileBytes)", ErrTooLarge, l.what, sizeText(l.max))
}

// sizeText writes n bytes as "64 MiB", "1.5 KiB" or "100 bytes".
func sizeText(n int64) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d bytes", n)
}

// countProto counts the samples (field 2) and locations (field 4) of an
// encoded profile.proto Profile message by walking its top-level fields,
// without decoding them.
func countProto(b []byte) (samples, locs int, err error) {
	for len(b) > 0 {
		key, n := uvarint(b)
		if n <= 0 {
			return 0, 0, errors.New("bad field key")
		}
		b = b[n:]
		switch key & 7 {
		case 0: // varint
			_, n = uvarint(b)
			if n <= 0 {
				return 0, 0, errors.New("bad varint")
			}
			b = b[n:]
		case 1: // fixed64
			if len(b) < 8 {
				return 0, 0, errors.New("short fixed64")
			}
			b = b[8:]
		case 2: // length-delimited
			l, n := uvarint(b)
			if n <= 0 || l > uint64(len(b)-n) {
				return 0, 0, errors.New("bad length")
			}
			b = b[n+int(l):]
			switch key >> 3 {
			case 2:
				samples++
			case 4:
				locs++
			}
		case 5: // fixed32
			if len(b) < 4 {
				return 0, 0, errors.New("short fixed32")
			}
			b = b[4:]
		default:
			return 0, 0, fmt.Errorf("wire type %d", key&7)
		}
	}
	return samples, locs, nil
}

func uvarint(b []byte) (uint64, int) {
	var v uint64
	for i := 0; i < len(b) && i < 10; i++ {
		v |= uint64(b[i]&0x7f) << (7 * i)
		if b[i] < 0x80 {
			return v, i + 1
		}
	}
	return 0, 0
}

// parseProto reads a debug=0 goroutine profile (gzipped protobuf) and
// turns each sample into a Goroutine with Count set. The profile is read
// whole, as the protobuf encoding needs, within the limits of c.
func parseProto(r io.Reader, s *Scanner) (gs []*Goroutine, err error) {
	defer func() {
		if e := recover(); e != nil { // google/pprof must not take the caller down
			gs, err = nil, fmt.Errorf("stacks: protobuf profile: %v", e)
		}
	}()
	data, err := readProfile(r, &s.cfg)
	if err != nil {
		return nil, fmt.Errorf("stacks: protobuf profile: %w", err)
	}
	p, err := profile.ParseData(data)
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
