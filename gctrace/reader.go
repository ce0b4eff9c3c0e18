package gctrace

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
)

// maxLine is the reader's buffer size. Trace lines are under 300 bytes;
// longer lines are the program's own output and pass through in pieces.
const maxLine = 64 << 10

// Stats counts what a [Reader] has seen so far.
type Stats struct {
	// Lines is the number of lines read (a final line without a newline
	// counts).
	Lines int64 `json:"lines"`
	// Bytes is the number of bytes read.
	Bytes int64 `json:"bytes"`
	// Trace is the number of runtime trace lines parsed into records.
	Trace int64 `json:"trace"`
	// Other is the number of lines that are not trace lines: the
	// program's own output. They are passed over, never errors.
	Other int64 `json:"other"`
	// Malformed is the number of lines that start like a gc line but do
	// not parse: output cut off, or another write landing inside the
	// runtime's line. They are counted with neither Trace nor Other.
	Malformed int64 `json:"malformed"`
	// Embedded is the number of gc lines found after the program's own
	// text on the same line (the program wrote without a final newline
	// just before the runtime printed). They count in Trace and Other.
	Embedded int64 `json:"embedded"`
	// Repaired is the number of gc lines split in two by a line the
	// program wrote while the runtime was printing ("gc 7 @0.1s " +
	// "log line\n" + "3%: …"), put back together. The program's line is
	// passed through whole. They count in Trace and Other.
	Repaired int64 `json:"repaired"`
}

// Reader reads runtime trace records from a stream that may mix them with
// anything else the program writes to standard error. Memory use is constant
// (one 64 KiB buffer) whatever the input size; parsing a line does not
// allocate. A Reader is not safe for concurrent use.
type Reader struct {
	br      *bufio.Reader
	pass    io.Writer
	passErr error
	stats   Stats
	forced  bool // a "GC forced" line is waiting for its gc line
	err     error
	// tangle holds a line that starts like a gc line but does not parse,
	// and the lines after it, until they join into a gc line with the
	// program's lines taken out (see tangle.go) or prove not to.
	tangle tangle
}

// NewReader returns a Reader reading r. Options that do not concern reading
// are ignored. It allocates the 64 KiB line buffer.
func NewReader(r io.Reader, opts ...Option) *Reader {
	var c config
	for _, o := range opts {
		o.apply(&c)
	}
	return &Reader{br: bufio.NewReaderSize(r, maxLine), pass: c.passthrough}
}

// Next returns the next trace record. Lines that are not trace lines are
// counted in [Reader.Stats] and written to the passthrough writer, if one was
// given with [WithPassthrough]. At the end of input Next returns io.EOF; an
// error from the underlying reader is returned wrapped, and every later call
// returns the same error. Parse failures are never errors.
func (r *Reader) Next() (Record, error) {
	var rec Record
	for r.err == nil {
		// A failed parse may leave partial fields; start each line clean
		// so a record carries only its own kind's part.
		rec = Record{}
		line, err := r.br.ReadSlice('\n')
		r.stats.Bytes += int64(len(line))
		if errors.Is(err, bufio.ErrBufferFull) {
			r.flushHeld()
			r.longLine(line)
			continue
		}
		if err != nil && !errors.Is(err, io.EOF) {
			r.flushHeld()
			r.err = fmt.Errorf("gctrace: read: %w", err)
			break
		}
		if len(line) == 0 {
			r.flushHeld()
			r.err = io.EOF
			break
		}
		if errors.Is(err, io.EOF) {
			// A final line without a newline: parse it, then stop.
			r.err = io.EOF
		}
		r.stats.Lines++
		body := trimEOL(line)
		kind, malformed := parseLine(body, &rec)
		if kind == 0 {
			rec = Record{} // drop what a failed parse left
		}
		if r.tangle.active() {
			if kind == 0 && len(body) <= maxTangleBytes && r.tangle.solve(body, &rec.Cycle) {
				r.untangle()
				rec.Kind = KindGC
				rec.Line = r.stats.Lines
				return r.emit(rec), nil
			}
			rec = Record{}
			if kind == 0 && !malformed && r.err == nil && r.tangle.add(line) {
				continue
			}
			r.flushHeld()
		}
		if kind == 0 && !malformed {
			if k := gcStart(body); k > 0 && parseGC(body[k:], &rec.Cycle) {
				kind = KindGC
				r.stats.Embedded++
				r.stats.Other++
				r.write(body[:k])
			}
		}
		if kind == 0 {
			if r.err == nil && len(line) <= maxTangleBytes && (malformed || bytes.HasPrefix(body, []byte("gc "))) {
				r.tangle.start(line, malformed)
				continue
			}
			if malformed {
				r.stats.Malformed++
			} else {
				r.stats.Other++
			}
			r.write(line)
			continue
		}
		rec.Kind = kind
		rec.Line = r.stats.Lines
		return r.emit(rec), nil
	}
	return Record{}, r.err
}

// emit counts a record and links "GC forced" to the cycle it started.
func (r *Reader) emit(rec Record) Record {
	r.stats.Trace++
	switch rec.Kind {
	case KindForced:
		r.forced = true
	case KindGC:
		rec.Cycle.Periodic = r.forced
		r.forced = false
	}
	return rec
}

// untangle passes on the program's part of each held line, in order, once
// the tangle has joined into a gc line.
func (r *Reader) untangle() {
	t := &r.tangle
	for j := range t.ends {
		r.write(t.line(j)[t.frag[j]:])
	}
	r.stats.Repaired++
	r.stats.Other += int64(len(t.ends))
	t.reset()
}

// flushHeld gives up on the held lines: the first counts as malformed (or
// as the program's, if it never looked like a gc line: "gc " and no
// number), the others as the program's; all pass on as they were.
func (r *Reader) flushHeld() {
	t := &r.tangle
	if !t.active() {
		return
	}
	if t.malformed {
		r.stats.Malformed++
	} else {
		r.stats.Other++
	}
	r.stats.Other += int64(len(t.ends) - 1)
	r.write(t.buf)
	t.reset()
}

// longLine passes a line longer than the buffer through unparsed.
func (r *Reader) longLine(first []byte) {
	r.write(first)
	for {
		chunk, err := r.br.ReadSlice('\n')
		r.stats.Bytes += int64(len(chunk))
		r.write(chunk)
		if !errors.Is(err, bufio.ErrBufferFull) {
			if err != nil && !errors.Is(err, io.EOF) {
				r.err = fmt.Errorf("gctrace: read: %w", err)
			} else if err != nil {
				r.err = io.EOF
			}
			break
		}
	}
	r.stats.Lines++
	r.stats.Other++
}

func (r *Reader) write(b []byte) {
	if r.pass == nil || r.passErr != nil || len(b) == 0 {
		return
	}
	if _, err := r.pass.Write(b); err != nil {
		r.passErr = fmt.Errorf("gctrace: passthrough: %w", err)
	}
}

// Stats returns the counts so far. It is cheap (a copy).
func (r *Reader) Stats() Stats { return r.stats }

// PassthroughErr returns the first error from the passthrough writer, or
// nil. After such an error the Reader stops writing but keeps reading and
// parsing, so a program whose standard error it drains never blocks.
func (r *Reader) PassthroughErr() error { return r.passErr }

func trimEOL(b []byte) []byte {
	if n := len(b); n > 0 && b[n-1] == '\n' {
		b = b[:n-1]
	}
	if n := len(b); n > 0 && b[n-1] == '\r' {
		b = b[:n-1]
	}
	return b
}
