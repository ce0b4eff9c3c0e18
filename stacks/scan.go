package stacks

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unsafe"
)

// maxLine bounds the length of one input line; longer lines are cut (the
// rest is skipped) so hostile input cannot make the scanner buffer it all.
const maxLine = 1 << 20

// Scanner reads goroutines from a dump one at a time, as a stream.
//
//	s := stacks.NewScanner(r)
//	for s.Next() {
//		g := s.Goroutine()
//		...
//	}
//	if err := s.Err(); err != nil { ... }
//
// Memory: a 64 KiB read buffer plus the interned names and files seen so far.
// Returned goroutines, their frames and argument text are cut from shared
// blocks (256 goroutines, 2048 frames, 64 KiB of text each), so scanning
// costs a few allocations per thousand goroutines; keeping one goroutine
// keeps its blocks alive.
// A Scanner is not safe for concurrent use.
type Scanner struct {
	br   *bufio.Reader
	long []byte // accumulates lines longer than the bufio buffer

	mode     int // modeOutside, modeGoroutine, modeRecord
	inProf   bool
	cur      *gbuild
	ready    *Goroutine
	spare    [2]gbuild // reuse mode double buffer
	flip     int
	reuse    bool
	pendFn   *funcInfo // frame whose file line is expected next
	pendArgs []byte
	pendKind int // what the pending frame is: pendFrame, pendCreated, pendAncestor, pendCgo
	anc      *Ancestor

	slab slab // memory for the goroutines handed out

	strs  map[string]string
	funcs map[string]*funcInfo
	files map[string]*fileInfo

	n      int // goroutines returned
	seen   int // non-empty lines outside any goroutine
	first  string
	reason string
	format string
	proto  []*Goroutine
	err    error
	done   bool
	eof    bool // the input is read; done once the last goroutine is finished

	cfg   scanConfig
	stats Stats
	kept  int      // frames kept by the goroutine under construction, ancestors' included
	drop  Ancestor // ancestor past the frame limit: read, not kept
}

const (
	modeOutside = iota
	modeGoroutine
	modeRecord
)

const (
	pendNone = iota
	pendFrame
	pendCreated
	pendAncestor
	pendCgo
)

// gbuild is a goroutine under construction.
type gbuild struct {
	g      Goroutine
	cb     Frame // storage for g.CreatedBy
	frames []Frame
	hs     []fhash
	args   []byte
	spans  []span
}

type span struct{ frame, start, end int }

// fhash is the precomputed hash of a frame's function and file.
type fhash struct{ fn, file uint64 }

type funcInfo struct {
	name, pkg, recv string
	hash            uint64
}

type fileInfo struct {
	file string
	line int
	hash uint64
}

// NewScanner returns a Scanner reading the dump from r. It detects the
// format from the first bytes: gzip (the debug=0 protobuf profile, read
// whole by google/pprof, within [MaxProfileBytes] and [MaxProfileSamples])
// or text. Options set the limits; see [DefaultMaxFrames].
func NewScanner(r io.Reader, opts ...ScanOption) *Scanner {
	s := &Scanner{
		br:    bufio.NewReaderSize(r, 64<<10),
		strs:  make(map[string]string),
		funcs: make(map[string]*funcInfo),
		files: make(map[string]*fileInfo),
		cfg:   newScanConfig(opts),
	}
	if b, _ := s.br.Peek(2); len(b) == 2 && b[0] == 0x1f && b[1] == 0x8b {
		s.format = "proto"
		s.proto, s.err = parseProto(s.br, s)
		if s.err == nil && len(s.proto) == 0 {
			s.err = fmt.Errorf("%w: the protobuf profile has no samples", ErrNoDump)
		}
		s.done = true
	}
	return s
}

// Next advances to the next goroutine, which [Scanner.Goroutine] then
// returns. It returns false at the end of the input or on an error.
func (s *Scanner) Next() (ok bool) {
	defer func() {
		// A bug here must not take the caller down: report it as an error.
		if e := recover(); e != nil {
			s.err = fmt.Errorf("stacks: internal error parsing the dump: %v", e)
			s.done, s.ready, s.proto, ok = true, nil, nil, false
		}
	}()
	s.ready = nil
	if s.format == "proto" {
		if len(s.proto) == 0 {
			return false
		}
		s.ready, s.proto = s.proto[0], s.proto[1:]
		s.n++
		s.stats.Goroutines++
		return true
	}
	for !s.done {
		if s.eof {
			// The last line may have completed one goroutine and
			// started another: the first was returned, finish the second.
			s.done = true
			s.finish()
		} else {
			line, err := s.readLine()
			if len(line) > 0 || err == nil {
				s.line(line)
			}
			if err != nil {
				s.eof = true
				if err != io.EOF {
					s.err = fmt.Errorf("stacks: read: %w", err)
				}
			}
		}
		if s.ready != nil {
			s.n++
			s.stats.Goroutines++
			return true
		}
	}
	if s.err == nil && s.n == 0 {
		found := "empty input"
		if s.stats.Unparsed > 0 {
			found = fmt.Sprintf("%d goroutine header%s it could not read, the first %q", s.stats.Unparsed, plural(s.stats.Unparsed), s.stats.UnparsedExamples[0])
		} else if s.first != "" {
			found = strconv.Quote(s.first)
		}
		s.err = fmt.Errorf("%w: expected a line like \"goroutine 1 [running]:\" or \"goroutine profile: total N\", found %s", ErrNoDump, found)
	}
	return false
}

// Goroutine returns the goroutine read by the last call to [Scanner.Next].
// The caller owns it.
func (s *Scanner) Goroutine() *Goroutine { return s.ready }

// Err returns the first error met, or nil at a clean end of input.
// Input without any goroutine yields an error wrapping [ErrNoDump].
func (s *Scanner) Err() error { return s.err }

// Reason returns the first panic, fatal error or signal line seen before
// the goroutines ("panic: boom"), or "".
func (s *Scanner) Reason() string { return s.reason }

// Stats returns what the scan has read so far and what it could not read:
// unparsed goroutine headers, a debug=1 total that does not match its
// records, frames dropped past [MaxFrames]. Call it after Next returns
// false for the whole input's figures.
func (s *Scanner) Stats() Stats { return s.stats }

// Format returns the format detected so far: "text", "debug=1", "proto"
// or "" before any goroutine.
func (s *Scanner) Format() string { return s.format }

// readLine returns the next line without its line ending. The slice is
// valid until the next call.
func (s *Scanner) readLine() ([]byte, error) {
	line, err := s.br.ReadSlice('\n')
	if err == bufio.ErrBufferFull {
		s.long = append(s.long[:0], line...)
		for err == bufio.ErrBufferFull {
			line, err = s.br.ReadSlice('\n')
			if len(s.long) < maxLine {
				s.long = append(s.long, line...)
			}
		}
		line = s.long
	}
	if n := len(line); n > 0 && line[n-1] == '\n' {
		line = line[:n-1]
	}
	for n := len(line); n > 0 && line[n-1] == '\r'; n-- {
		line = line[:n-1] // CRLF line endings, however many CRs
	}
	return line, err
}

// line processes one input line.
func (s *Scanner) line(l []byte) {
	switch s.mode {
	case modeGoroutine:
		if s.goroutineLine(l) {
			return
		}
		s.finish()
	case modeRecord:
		if s.recordLine(l) {
			return
		}
		s.finish()
	}
	s.outsideLine(l)
}

var (
	pGoroutine = []byte("goroutine ")
	pProfile   = []byte(" profile: total ")
	pCreated   = []byte("created by ")
	pOrigin    = []byte("[originating from goroutine ")
	pNonGo     = []byte("non-Go function")
	pNonGoPC   = []byte("non-Go function at pc=")
	pUnavail   = []byte("\tgoroutine running on other thread; stack unavailable")
	pInGor     = []byte(" in goroutine ")
	pLabels    = []byte(" labels:{")
	pLabelsPr  = []byte("# labels: ")
)

// headerLike reports whether l starts like a goroutine header,
// "goroutine N ": such a line is read as a goroutine or counted as
// unparsed, never skipped silently.
func headerLike(l []byte) bool {
	if !bytes.HasPrefix(l, pGoroutine) {
		return false
	}
	_, n := parseUint(l[len(pGoroutine):])
	return n > 0 && len(l) > len(pGoroutine)+n && l[len(pGoroutine)+n] == ' '
}

func (s *Scanner) outsideLine(l []byte) {
	if headerLike(l) {
		if s.header(l) {
			return
		}
		s.stats.Unparsed++
		if len(s.stats.UnparsedExamples) < maxExamples {
			e := l
			if len(e) > 120 {
				e = e[:120]
			}
			s.stats.UnparsedExamples = append(s.stats.UnparsedExamples, string(e))
		}
		return
	}
	if s.inProf && len(l) > 0 && l[0] >= '0' && l[0] <= '9' {
		if s.recordHeader(l) {
			return
		}
	}
	if len(l) == 0 {
		return
	}
	if i := bytes.Index(l, pProfile); i > 0 && bytes.IndexByte(l[:i], ' ') < 0 {
		s.inProf = true
		n, _ := parseUint(l[i+len(pProfile):])
		s.stats.Profiles++
		s.stats.StatedTotal += int(min(n, 1<<31))
		if s.format == "" {
			s.format = "debug=1"
		}
		return
	}
	if s.reason == "" && s.n == 0 && s.cur == nil {
		if bytes.HasPrefix(l, []byte("panic: ")) || bytes.HasPrefix(l, []byte("fatal error: ")) ||
			(bytes.HasPrefix(l, []byte("SIG")) && bytes.Contains(l, []byte(": "))) {
			s.reason = string(l)
		}
	}
	if s.seen == 0 {
		f := l
		if len(f) > 80 {
			f = f[:80]
		}
		s.first = string(f)
	}
	s.seen++
}

// newBuild returns an empty goroutine under construction.
func (s *Scanner) newBuild() *gbuild {
	var b *gbuild
	if s.reuse {
		b = &s.spare[s.flip]
		s.flip ^= 1
		b.g = Goroutine{}
		b.frames = b.frames[:0]
		b.hs = b.hs[:0]
		b.args = b.args[:0]
		b.spans = b.spans[:0]
	} else {
		b = &s.spare[0]
		b.g = Goroutine{}
		b.frames = b.frames[:0]
		b.hs = b.hs[:0]
		b.args = b.args[:0]
		b.spans = b.spans[:0]
	}
	s.pendKind = pendNone
	s.anc = nil
	s.kept = 0
	return b
}

// header parses a goroutine header as the runtime prints it
// (runtime.goroutineheader):
//
//	goroutine N [gp=0x… m=M mp=0x…|gp=0x… m=nil] [STATUS[ (leaked)][ (scan)][ (durable)][, W minutes][, locked to thread][, synctest bubble B]]:
//
// with pprof labels either inside the brackets (Go 1.26, " labels:{…}")
// or after them (Go 1.27, " {…}"). It reports false, building nothing,
// for a line that does not have that shape.
func (s *Scanner) header(l []byte) bool {
	rest := l[len(pGoroutine):]
	id, n := parseUint(rest)
	if n == 0 || n >= len(rest) || rest[n] != ' ' || len(rest) < 2 || rest[len(rest)-1] != ':' {
		return false
	}
	rest = rest[n:]
	open := bytes.Index(rest, []byte(" ["))
	if open < 0 {
		return false
	}
	meta := rest[:open]
	body := rest[open+2 : len(rest)-1] // STATUS…]{ labels}
	var st, labels []byte
	form := labelsNone
	if i := bytes.Index(body, pLabels); i >= 0 && body[len(body)-1] == ']' {
		// Go 1.26: the labels close the brackets; a status never holds
		// " labels:{", so the first one starts them.
		st, labels = body[:i], body[i+len(pLabels)-1:len(body)-1]
		form = labelsBracket
	} else {
		// A status never contains ']', so the first one closes it.
		end := bytes.IndexByte(body, ']')
		if end < 0 {
			return false
		}
		st, labels = body[:end], body[end+1:]
		if len(labels) > 0 {
			if len(labels) < 3 || labels[0] != ' ' || labels[1] != '{' || labels[len(labels)-1] != '}' {
				return false
			}
			labels = labels[1:]
			form = labelsAfterHdr
		}
	}
	var lm map[string]string
	switch form {
	case labelsBracket:
		m, ok := parseBracketLabels(labels, ": ")
		if !ok {
			return false
		}
		lm = m
	case labelsAfterHdr:
		m, ok := parseHeaderLabels(labels[1 : len(labels)-1])
		if !ok {
			return false
		}
		lm = m
	}
	var gp, mp uint64
	var mid []byte
	if len(meta) > 0 {
		// " gp=0x… m=N mp=0x…" or " gp=0x… m=nil", nothing else.
		f := bytes.Split(meta[1:], []byte(" "))
		if len(f) < 2 || !isHexTok(f[0], "gp=0x") || !bytes.HasPrefix(f[1], []byte("m=")) {
			return false
		}
		gp = parseHex(f[0][3:])
		mid = f[1][2:]
		switch {
		case string(mid) == "nil" && len(f) == 2:
		case len(f) == 3 && len(mid) > 0 && isDecimal(mid) && isHexTok(f[2], "mp=0x"):
			mp = parseHex(f[2][3:])
		default:
			return false
		}
	}
	b := s.newBuild()
	g := &b.g
	g.ID = id
	g.Labels = lm
	if lm != nil {
		g.labelForm = uint8(form)
	}
	if mid != nil {
		g.GP, g.M, g.MP = gp, s.intern(mid), mp
	}
	// The runtime prints ", W minutes", ", locked to thread" and
	// ", synctest bubble B" in that order at the end, and the flags
	// " (leaked)", " (scan)", " (durable)" right after the status. Read
	// them from the end, each at most once and in that order; whatever
	// is left (a status holding ", ", a suffix out of order) stays in the
	// state, so nothing printed is lost and WriteDump gives it back.
	status := st
	stage := 3
	for stage > 0 {
		i := bytes.LastIndex(status, []byte(", "))
		if i < 0 {
			break
		}
		p := status[i+2:]
		switch {
		case stage >= 3 && bytes.HasPrefix(p, []byte("synctest bubble ")) && isDecimal(p[len("synctest bubble "):]):
			v, _ := parseUint(p[len("synctest bubble "):])
			if v == 0 {
				stage = 0
				continue
			}
			g.Bubble, stage = v, 2
		case stage >= 2 && string(p) == "locked to thread":
			g.Locked, stage = true, 1
		case bytes.HasSuffix(p, []byte(" minutes")) && isDecimal(p[:len(p)-len(" minutes")]):
			m, _ := parseUint(p)
			if m == 0 || m > 1<<31 {
				stage = 0
				continue
			}
			g.WaitMinutes, stage = int(m), 0
		default:
			stage = 0
			continue
		}
		status = status[:i]
	}
	for {
		switch {
		case bytes.HasSuffix(status, []byte(" (durable)")):
			g.Durable = true
			status = status[:len(status)-len(" (durable)")]
			continue
		case bytes.HasSuffix(status, []byte(" (scan)")):
			g.Scan = true
			status = status[:len(status)-len(" (scan)")]
			continue
		case bytes.HasSuffix(status, []byte(" (leaked)")):
			g.Leaked = true
			status = status[:len(status)-len(" (leaked)")]
			continue
		}
		break
	}
	g.State = s.intern(status)
	s.cur = b
	s.mode = modeGoroutine
	if s.format == "" {
		s.format = "text"
	}
	return true
}

// isDecimal reports whether b is one or more decimal digits that fit in a
// uint64 without a leading zero (as the runtime prints numbers).
func isDecimal(b []byte) bool {
	if len(b) == 0 || len(b) > 1 && b[0] == '0' {
		return false
	}
	_, n := parseUint(b)
	return n == len(b)
}

// goroutineLine handles a line inside a text goroutine; false means the
// line does not belong to it.
func (s *Scanner) goroutineLine(l []byte) bool {
	b := s.cur
	if len(l) == 0 {
		return false
	}
	if l[0] == '\t' {
		if s.pendKind == pendNone {
			if bytes.Equal(l, pUnavail) {
				b.g.Unavailable = true
				return true
			}
			return false
		}
		s.fileLine(l[1:])
		return true
	}
	if s.pendKind != pendNone {
		s.flushPending()
	}
	switch {
	case bytes.HasPrefix(l, pGoroutine):
		return false
	case bytes.HasPrefix(l, pCreated):
		fn := l[len(pCreated):]
		// " in goroutine N" (Go 1.21+) with N a goroutine ID; other
		// text stays in the name so WriteDump gives it back.
		if i := bytes.LastIndex(fn, pInGor); i >= 0 && isDecimal(fn[i+len(pInGor):]) {
			if id, _ := parseUint(fn[i+len(pInGor):]); id != 0 {
				b.g.ParentID = id
				fn = fn[:i]
			}
		}
		s.pendFn = s.funcInfo(fn)
		s.pendArgs = s.pendArgs[:0]
		s.pendKind = pendCreated
		if s.anc != nil {
			cb := &Frame{NoArgs: true}
			s.setFunc(cb, s.pendFn)
			s.anc.CreatedBy = cb
		} else {
			b.cb = Frame{NoArgs: true}
			s.setFunc(&b.cb, s.pendFn)
			b.g.CreatedBy = &b.cb
		}
		return true
	case bytes.HasPrefix(l, pOrigin) && bytes.HasSuffix(l, []byte("]:")):
		id, _ := parseUint(l[len(pOrigin):])
		if s.kept >= s.cfg.maxFrames {
			// Past the frame limit: read the ancestor, keep nothing.
			s.drop = Ancestor{}
			s.anc = &s.drop
			return true
		}
		s.kept++ // an ancestor costs as much as a frame
		b.g.Ancestors = append(b.g.Ancestors, Ancestor{ID: id})
		s.anc = &b.g.Ancestors[len(b.g.Ancestors)-1]
		return true
	case len(l) > 6 && l[0] == '.' && l[1] == '.' && l[2] == '.' && bytes.HasSuffix(l, []byte(" elided...")):
		mid := l[3 : len(l)-len(" elided...")]
		if string(mid) == "additional frames" {
			if s.anc != nil {
				s.anc.Elided = true
			} else {
				b.g.Elided = -1
			}
			return true
		}
		if n, k := parseUint(mid); k > 0 && string(mid[k:]) == " frames" && s.anc == nil {
			b.g.Elided = int(min(n, 1<<31))
			b.g.ElidedAt = len(b.frames)
			return true
		}
		return false
	case bytes.HasPrefix(l, pNonGoPC):
		pc := parseHex(l[len(pNonGoPC):])
		s.addFrame(Frame{Func: "non-Go function", NoArgs: true, PC: pc, Extra: s.intern(l[len("non-Go function"):])}, fhash{fn: hashString("non-Go function")})
		return true
	}
	// A call: name(args).
	if l[len(l)-1] == ')' {
		if i := bytes.LastIndexByte(l, '('); i > 0 && bytes.IndexByte(l[:i], ' ') < 0 {
			s.pendFn = s.funcInfo(l[:i])
			s.pendArgs = append(s.pendArgs[:0], l[i+1:len(l)-1]...)
			s.pendKind = pendFrame
			if s.anc != nil {
				s.pendKind = pendAncestor
			}
			return true
		}
	}
	// A call cut by the end of the input: "name(0x1, 0x".
	if i := bytes.LastIndexByte(l, '('); i > 0 && bytes.IndexByte(l[:i], ' ') < 0 && s.atEOF() {
		s.pendFn = s.funcInfo(l[:i])
		s.pendArgs = append(s.pendArgs[:0], l[i+1:]...)
		s.pendKind = pendFrame
		if s.anc != nil {
			s.pendKind = pendAncestor
		}
		return true
	}
	// A symbolized cgo frame: a bare name followed by "\tfile:line pc=…".
	if bytes.IndexByte(l, ' ') < 0 || bytes.Equal(l, pNonGo) {
		if nx, err := s.br.Peek(1); err == nil && nx[0] == '\t' {
			s.pendFn = s.funcInfo(l)
			s.pendArgs = s.pendArgs[:0]
			s.pendKind = pendCgo
			return true
		}
	}
	return false
}

// atEOF reports whether the input has no byte left after the current line.
func (s *Scanner) atEOF() bool {
	_, err := s.br.Peek(1)
	return err != nil
}

// flushPending records a frame whose file line never came (truncated
// input or an unexpected line).
func (s *Scanner) flushPending() {
	fr := Frame{}
	s.setFunc(&fr, s.pendFn)
	kind := s.pendKind
	s.pendKind = pendNone
	switch kind {
	case pendFrame:
		fr.Inlined = string(s.pendArgs) == "..." // as fileLine marks it, offset 0
		s.addFrameArgs(fr, s.pendArgs)
		s.cur.g.Truncated = true
	case pendAncestor:
		fr.Args = s.intern(s.pendArgs)
		s.addAncestorFrame(fr)
		s.cur.g.Truncated = true
	case pendCgo:
		fr.NoArgs = true
		s.addFrame(fr, fhash{fn: s.pendFn.hash})
	case pendCreated:
		// already stored without a file
	}
}

// fileLine parses "file:line [+0x…] [fp=… sp=… pc=…]" for the pending frame.
func (s *Scanner) fileLine(l []byte) {
	kind := s.pendKind
	s.pendKind = pendNone
	if len(l) == 0 && (kind == pendFrame || kind == pendAncestor) {
		// An empty location line says no more than a missing one.
		s.cur.g.Truncated = true
	}
	var off, pc uint64
	var extra []byte
	// Strip trailing " key=0x…" and " +0x…" tokens.
	orig := l
	for {
		i := bytes.LastIndexByte(l, ' ')
		if i < 0 {
			break
		}
		tok := l[i+1:]
		if isHexTok(tok, "+0x") {
			off = parseHex(tok[3:])
			l = l[:i]
			break
		}
		if isHexTok(tok, "fp=0x") || isHexTok(tok, "sp=0x") || isHexTok(tok, "pc=0x") {
			if tok[0] == 'p' {
				pc = parseHex(tok[5:])
			}
			extra = orig[i:]
			l = l[:i]
			continue
		}
		break
	}
	if isHexTok(l, "pc=0x") { // cgo frame with no file
		pc = parseHex(l[5:])
		extra = l
		l = nil
	}
	fi := s.fileInfo(l)
	fr := Frame{Offset: off, PC: pc}
	s.setFunc(&fr, s.pendFn)
	if fi != nil {
		fr.File, fr.Line = fi.file, fi.line
	}
	if len(extra) > 0 {
		fr.Extra = s.intern(extra)
	}
	var fh uint64
	if fi != nil {
		fh = fi.hash
	}
	switch kind {
	case pendFrame:
		if off == 0 && string(s.pendArgs) == "..." {
			fr.Inlined = true
		}
		s.addFrameArgsHash(fr, s.pendArgs, fhash{s.pendFn.hash, fh})
	case pendCgo:
		fr.NoArgs = true
		s.addFrame(fr, fhash{s.pendFn.hash, fh})
	case pendAncestor:
		fr.Args = s.intern(s.pendArgs)
		s.addAncestorFrame(fr)
	case pendCreated:
		fr.NoArgs = true
		if s.anc != nil && s.anc.CreatedBy != nil {
			*s.anc.CreatedBy = fr
		} else if s.cur.g.CreatedBy != nil {
			*s.cur.g.CreatedBy = fr
		}
	}
}

func (s *Scanner) addFrame(fr Frame, h fhash) {
	if !s.keep() {
		return
	}
	s.cur.frames = append(s.cur.frames, fr)
	s.cur.hs = append(s.cur.hs, h)
}

// keep reports whether the goroutine under construction may keep one more
// frame ([MaxFrames]); if not, it counts the frame as dropped.
func (s *Scanner) keep() bool {
	if s.kept >= s.cfg.maxFrames {
		s.cur.g.DroppedFrames++
		s.stats.DroppedFrames++
		return false
	}
	s.kept++
	return true
}

// addAncestorFrame adds fr to the ancestor being read.
func (s *Scanner) addAncestorFrame(fr Frame) {
	if s.anc == &s.drop || !s.keep() {
		if s.anc == &s.drop {
			s.cur.g.DroppedFrames++
			s.stats.DroppedFrames++
		}
		return
	}
	s.anc.Frames = append(s.anc.Frames, fr)
}

func (s *Scanner) addFrameArgs(fr Frame, args []byte) {
	var fh uint64
	if fr.File != "" {
		fh = hashString(fr.File)
	}
	s.addFrameArgsHash(fr, args, fhash{hashString(fr.Func), fh})
}

func (s *Scanner) addFrameArgsHash(fr Frame, args []byte, h fhash) {
	b := s.cur
	if !s.keep() {
		return
	}
	s.kept-- // addFrame counts it
	switch string(args) {
	case "":
	case "...":
		fr.Args = "..."
	default:
		b.spans = append(b.spans, span{len(b.frames), len(b.args), len(b.args) + len(args)})
		b.args = append(b.args, args...)
	}
	s.addFrame(fr, h)
}

func (s *Scanner) setFunc(fr *Frame, fi *funcInfo) {
	fr.Func, fr.Pkg, fr.Receiver = fi.name, fi.pkg, fi.recv
}

// recordHeader parses a debug=1 record header "N @ 0x… 0x…".
func (s *Scanner) recordHeader(l []byte) bool {
	n, k := parseUint(l)
	if k == 0 || !bytes.HasPrefix(l[k:], []byte(" @")) {
		return false
	}
	b := s.newBuild()
	b.g.Count = int(min(n, 1<<31))
	s.stats.ProfileTotal = int(min(uint64(s.stats.ProfileTotal)+uint64(b.g.Count), 1<<62))
	s.cur = b
	s.mode = modeRecord
	return true
}

// recordLine handles "# labels: {…}" and "#\t0x…\tfunc+0x…\tfile:line".
func (s *Scanner) recordLine(l []byte) bool {
	if len(l) == 0 || l[0] != '#' {
		return false
	}
	if bytes.HasPrefix(l, pLabelsPr) {
		if m, ok := parseBracketLabels(bytes.TrimSpace(l[len(pLabelsPr):]), ":"); ok {
			s.cur.g.Labels = m
			return true
		}
		return false
	}
	f := l[1:]
	next := func() []byte {
		f = bytes.TrimLeft(f, " \t")
		i := bytes.IndexAny(f, " \t")
		if i < 0 {
			t := f
			f = nil
			return t
		}
		t := f[:i]
		f = f[i:]
		return t
	}
	pcTok := next()
	if !bytes.HasPrefix(pcTok, []byte("0x")) {
		return false
	}
	fr := Frame{PC: parseHex(pcTok[2:]), NoArgs: true}
	name := next()
	var h fhash
	if len(name) > 0 {
		if i := bytes.LastIndex(name, []byte("+0x")); i > 0 {
			fr.Offset = parseHex(name[i+3:])
			name = name[:i]
		}
		fi := s.funcInfo(name)
		s.setFunc(&fr, fi)
		h.fn = fi.hash
		if fl := s.fileInfo(bytes.TrimLeft(f, " \t")); fl != nil {
			fr.File, fr.Line, h.file = fl.file, fl.line, fl.hash
		}
	} else {
		fr.Func = "?"
		h.fn = hashString("?")
	}
	s.addFrame(fr, h)
	return true
}

// finish completes the goroutine under construction, if any, making it
// ready.
func (s *Scanner) finish() {
	b := s.cur
	if b == nil {
		s.mode = modeOutside
		return
	}
	if s.pendKind != pendNone {
		s.flushPending()
	}
	s.cur = nil
	s.mode = modeOutside
	g := &b.g
	if s.reuse {
		g.Frames = b.frames
		g.hs = b.hs
		if len(b.spans) > 0 {
			all := unsafe.String(&b.args[0], len(b.args))
			for _, sp := range b.spans {
				g.Frames[sp.frame].Args = all[sp.start:sp.end]
			}
		}
		s.ready = g
		return
	}
	out := s.slab.goroutine()
	*out = *g
	if g.CreatedBy == &b.cb {
		cb := &s.slab.frames(1)[0]
		*cb = b.cb
		out.CreatedBy = cb
	}
	out.Frames = s.slab.frames(len(b.frames))
	copy(out.Frames, b.frames)
	out.hs = s.slab.hashes(len(b.hs))
	copy(out.hs, b.hs)
	if len(b.spans) > 0 {
		all := s.slab.str(b.args)
		for _, sp := range b.spans {
			out.Frames[sp.frame].Args = all[sp.start:sp.end]
		}
	}
	s.ready = out
}

// intern returns b as a string shared with every equal string seen before.
func (s *Scanner) intern(b []byte) string {
	if v, ok := s.strs[string(b)]; ok {
		return v
	}
	v := string(b)
	s.strs[v] = v
	return v
}

// funcInfo returns the parsed, interned function name.
func (s *Scanner) funcInfo(b []byte) *funcInfo {
	if fi, ok := s.funcs[string(b)]; ok {
		return fi
	}
	name := string(b)
	pkg, recv := splitFunc(name)
	fi := &funcInfo{name: name, pkg: pkg, recv: recv, hash: hashString(name)}
	s.funcs[name] = fi
	return fi
}

// fileInfo returns the parsed, interned "file:line".
func (s *Scanner) fileInfo(b []byte) *fileInfo {
	if len(b) == 0 {
		return nil
	}
	if fi, ok := s.files[string(b)]; ok {
		return fi
	}
	key := string(b)
	fi := &fileInfo{file: key}
	if i := strings.LastIndexByte(key, ':'); i > 0 {
		if n, k := parseUint([]byte(key[i+1:])); k == len(key)-i-1 && k > 0 {
			fi.file = s.intern([]byte(key[:i]))
			fi.line = int(min(n, 1<<31))
		}
	}
	fi.hash = hashString(fi.file)
	s.files[key] = fi
	return fi
}

// splitFunc splits "net/http.(*conn).serve" into its package path and
// receiver. Dots in the last path element are escaped by the linker
// (%2e), so the package ends at the first dot after the last slash.
func splitFunc(name string) (pkg, recv string) {
	slash := strings.LastIndexByte(name, '/')
	dot := strings.IndexByte(name[slash+1:], '.')
	if dot < 0 {
		return "", ""
	}
	dot += slash + 1
	pkg = name[:dot]
	if strings.Contains(pkg, "%2e") {
		pkg = strings.ReplaceAll(pkg, "%2e", ".")
	}
	rest := name[dot+1:]
	if strings.HasPrefix(rest, "(") {
		depth := 0
		for i := 0; i < len(rest); i++ {
			switch rest[i] {
			case '(', '[':
				depth++
			case ')', ']':
				depth--
				if depth == 0 && rest[i] == ')' {
					return pkg, rest[:i+1]
				}
			}
		}
	}
	return pkg, ""
}

// isHexTok reports whether b is prefix followed by one or more hex digits.
func isHexTok(b []byte, prefix string) bool {
	if len(b) <= len(prefix) || string(b[:len(prefix)]) != prefix {
		return false
	}
	for _, c := range b[len(prefix):] {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return false
		}
	}
	return true
}

// parseUint reads leading decimal digits; n is how many bytes it used.
func parseUint(b []byte) (v uint64, n int) {
	for n < len(b) && b[n] >= '0' && b[n] <= '9' {
		if v > (1<<64-1)/10 {
			return v, n
		}
		v = v*10 + uint64(b[n]-'0')
		n++
	}
	return v, n
}

// parseHex reads leading hex digits after an optional 0x.
func parseHex(b []byte) uint64 {
	if len(b) > 1 && b[0] == '0' && (b[1] == 'x' || b[1] == 'X') {
		b = b[2:]
	}
	var v uint64
	for _, c := range b {
		switch {
		case c >= '0' && c <= '9':
			v = v<<4 | uint64(c-'0')
		case c >= 'a' && c <= 'f':
			v = v<<4 | uint64(c-'a'+10)
		case c >= 'A' && c <= 'F':
			v = v<<4 | uint64(c-'A'+10)
		default:
			return v
		}
	}
	return v
}

// hashString is 64-bit FNV-1a: stable across processes, so group keys
// match between dumps.
func hashString(s string) uint64 {
	h := uint64(14695981039346656037)
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= 1099511628211
	}
	return h
}

// slab hands out goroutines, frames, hashes and argument text from shared
// blocks, so a dump costs a few allocations per thousand goroutines
// instead of five per goroutine. A goroutine kept alive keeps its blocks
// (at most a few hundred KiB) alive too. Slices are cut with their
// capacity, so appending to one never writes into another.
type slab struct {
	gs  []Goroutine
	fs  []Frame
	hs  []fhash
	buf []byte
}

const (
	slabGoroutines = 256
	slabFrames     = 2048
	slabBytes      = 64 << 10
)

func (s *slab) goroutine() *Goroutine {
	if len(s.gs) == cap(s.gs) {
		s.gs = make([]Goroutine, 0, slabGoroutines)
	}
	s.gs = s.gs[:len(s.gs)+1]
	return &s.gs[len(s.gs)-1]
}

func (s *slab) frames(n int) []Frame {
	if n > slabFrames/4 {
		return make([]Frame, n)
	}
	if cap(s.fs)-len(s.fs) < n {
		s.fs = make([]Frame, 0, slabFrames)
	}
	l := len(s.fs)
	s.fs = s.fs[:l+n]
	return s.fs[l : l+n : l+n]
}

func (s *slab) hashes(n int) []fhash {
	if n > slabFrames/4 {
		return make([]fhash, n)
	}
	if cap(s.hs)-len(s.hs) < n {
		s.hs = make([]fhash, 0, slabFrames)
	}
	l := len(s.hs)
	s.hs = s.hs[:l+n]
	return s.hs[l : l+n : l+n]
}

// str returns b as a string stored in the byte block. The block is only
// ever appended to within its capacity, so the bytes under a returned
// string never change.
func (s *slab) str(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	if len(b) > slabBytes/4 {
		return string(b)
	}
	if cap(s.buf)-len(s.buf) < len(b) {
		s.buf = make([]byte, 0, slabBytes)
	}
	l := len(s.buf)
	s.buf = append(s.buf, b...)
	return unsafe.String(&s.buf[l], len(b))
}
