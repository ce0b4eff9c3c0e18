package tracecap

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"
)

// Suffix is the file-name suffix of every trace file a [Dir] writes. Only
// files with this suffix count against a Dir's caps, and only they are ever
// removed by it: other files in the directory are left alone.
const Suffix = ".trace"

// ErrDirFull is returned by [File.Write] when the file alone would exceed the
// directory's byte cap even after every older file was removed. The file is
// discarded when it is closed.
var ErrDirFull = errors.New("tracecap: trace exceeds the directory byte cap")

// Dir is a directory of capped trace files: at most MaxFiles files and
// MaxBytes bytes in total, counting files still being written. When a new
// file or a write would break a cap, the oldest finished files are removed
// first, before the new bytes reach the disk, so the caps hold at every
// moment and the disk never fills because of it.
//
// A Dir is safe for concurrent use. Two Dirs (or two processes) must not
// share a directory: each keeps its own count.
type Dir struct {
	path     string
	suffix   string
	maxFiles int
	maxBytes int64

	mu       sync.Mutex
	done     []dirEntry // finished files, oldest first
	open     int        // files being written
	reserved int64      // bytes of files being written
	total    int64      // bytes of finished files
	seq      uint64
}

type dirEntry struct {
	name string
	size int64
}

// OpenDir opens (creating it with mode 0700 if needed) a directory of trace
// files capped at maxFiles files and maxBytes bytes. Existing "*.trace" files
// count against the caps, oldest by modification time first; if they already
// exceed them, the oldest are removed now. It costs one directory read.
func OpenDir(path string, maxFiles int, maxBytes int64) (*Dir, error) {
	return OpenDirSuffix(path, Suffix, maxFiles, maxBytes)
}

// OpenDirSuffix is [OpenDir] for files with another suffix than [Suffix],
// such as ".zip" for the incident bundles of package incident: only files
// ending in suffix count against the caps, are removed, and are created.
func OpenDirSuffix(path, suffix string, maxFiles int, maxBytes int64) (*Dir, error) {
	if suffix == "" || strings.ContainsAny(suffix, "/\\") {
		return nil, fmt.Errorf("tracecap: dir %s: invalid suffix %q", path, suffix)
	}
	if maxFiles < 1 {
		return nil, fmt.Errorf("tracecap: dir %s: max files %d must be at least 1", path, maxFiles)
	}
	if maxBytes < 1 {
		return nil, fmt.Errorf("tracecap: dir %s: max bytes %d must be positive", path, maxBytes)
	}
	if err := os.MkdirAll(path, 0o700); err != nil {
		return nil, fmt.Errorf("tracecap: create dir: %w", err)
	}
	ents, err := os.ReadDir(path)
	if err != nil {
		return nil, fmt.Errorf("tracecap: read dir: %w", err)
	}
	type found struct {
		dirEntry
		mod time.Time
	}
	var fs []found
	for _, e := range ents {
		if !e.Type().IsRegular() || !strings.HasSuffix(e.Name(), suffix) {
			continue
		}
		info, err := e.Info()
		if err != nil {
			continue // removed meanwhile
		}
		fs = append(fs, found{dirEntry{e.Name(), info.Size()}, info.ModTime()})
	}
	sort.Slice(fs, func(i, j int) bool {
		if !fs[i].mod.Equal(fs[j].mod) {
			return fs[i].mod.Before(fs[j].mod)
		}
		return fs[i].name < fs[j].name
	})
	d := &Dir{path: path, suffix: suffix, maxFiles: maxFiles, maxBytes: maxBytes}
	for _, f := range fs {
		d.done = append(d.done, f.dirEntry)
		d.total += f.size
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	for len(d.done) > maxFiles || d.total > maxBytes {
		if err := d.evictLocked(); err != nil {
			return nil, err
		}
	}
	return d, nil
}

// Path returns the directory's path.
func (d *Dir) Path() string { return d.path }

// Usage returns the number of files and bytes the directory holds now,
// counting files being written.
func (d *Dir) Usage() (files int, bytes int64) {
	d.mu.Lock()
	defer d.mu.Unlock()
	return len(d.done) + d.open, d.total + d.reserved
}

// Files returns the paths of the finished files, oldest first.
func (d *Dir) Files() []string {
	d.mu.Lock()
	defer d.mu.Unlock()
	out := make([]string, len(d.done))
	for i, e := range d.done {
		out[i] = filepath.Join(d.path, e.name)
	}
	return out
}

// evictLocked removes the oldest finished file. d.mu must be held.
func (d *Dir) evictLocked() error {
	if len(d.done) == 0 {
		return ErrDirFull
	}
	e := d.done[0]
	if err := os.Remove(filepath.Join(d.path, e.name)); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("tracecap: rotate: %w", err)
	}
	d.done = d.done[1:]
	d.total -= e.size
	return nil
}

// Create starts a new file named "<prefix>-<UTC time>-<seq>.trace", removing
// the oldest finished files first if the directory already holds MaxFiles.
// The caller must Close (keep) or Abort (discard) the file. It costs a file
// creation and possibly removals.
func (d *Dir) Create(prefix string) (*File, error) {
	prefix = sanitize(prefix)
	d.mu.Lock()
	defer d.mu.Unlock()
	for len(d.done)+d.open+1 > d.maxFiles {
		if len(d.done) == 0 {
			return nil, fmt.Errorf("tracecap: all %d file slots of %s are being written", d.maxFiles, d.path)
		}
		if err := d.evictLocked(); err != nil {
			return nil, err
		}
	}
	d.seq++
	name := fmt.Sprintf("%s-%s-%06d%s", prefix, time.Now().UTC().Format("20060102T150405.000Z"), d.seq, d.suffix)
	f, err := os.OpenFile(filepath.Join(d.path, name), os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return nil, fmt.Errorf("tracecap: create: %w", err)
	}
	d.open++
	return &File{d: d, f: f, name: name}, nil
}

// reserve makes room for n more bytes of an open file, evicting the oldest
// finished files as needed.
func (d *Dir) reserve(n int64) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.reserved+n > d.maxBytes {
		return ErrDirFull // would not fit even with every finished file gone: keep them
	}
	for d.total+d.reserved+n > d.maxBytes {
		if err := d.evictLocked(); err != nil {
			return err
		}
	}
	d.reserved += n
	return nil
}

// finish moves an open file of size n to the finished list (keep) or forgets
// it (discard: the caller removed it).
func (d *Dir) finish(name string, n int64, keep bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.open--
	d.reserved -= n
	if keep {
		d.done = append(d.done, dirEntry{name, n})
		d.total += n
	}
}

// File is a trace file being written into a [Dir]. It is not safe for
// concurrent use.
type File struct {
	d      *Dir
	f      *os.File
	name   string
	size   int64
	err    error
	closed bool
}

// Name returns the file's full path.
func (f *File) Name() string { return filepath.Join(f.d.path, f.name) }

// Size returns the bytes written so far.
func (f *File) Size() int64 { return f.size }

// Write appends p, first removing the oldest finished files of the
// directory if the byte cap requires it. If p cannot fit even in an otherwise
// empty directory, Write returns [ErrDirFull], writes and removes nothing,
// and every later Write fails the same way.
func (f *File) Write(p []byte) (int, error) {
	if f.err != nil {
		return 0, f.err
	}
	if f.closed {
		return 0, os.ErrClosed
	}
	if err := f.d.reserve(int64(len(p))); err != nil {
		f.err = err
		return 0, err
	}
	n, err := f.f.Write(p)
	f.size += int64(n)
	if short := int64(len(p) - n); short > 0 {
		f.d.mu.Lock()
		f.d.reserved -= short
		f.d.mu.Unlock()
	}
	if err != nil {
		f.err = fmt.Errorf("tracecap: write %s: %w", f.name, err)
		return n, f.err
	}
	return n, nil
}

// Close finishes the file and keeps it, unless a Write failed: then the file
// is removed and the write error returned. Close is idempotent.
func (f *File) Close() error {
	if f.closed {
		return nil
	}
	if f.err != nil {
		return f.discard(f.err)
	}
	f.closed = true
	cerr := f.f.Close()
	if cerr != nil {
		_ = os.Remove(f.Name())
		f.d.finish(f.name, f.size, false)
		return fmt.Errorf("tracecap: close %s: %w", f.name, cerr)
	}
	f.d.finish(f.name, f.size, true)
	return nil
}

// Abort discards the file. It is a no-op after Close.
func (f *File) Abort() {
	if !f.closed {
		_ = f.discard(nil)
	}
}

func (f *File) discard(err error) error {
	f.closed = true
	_ = f.f.Close()
	_ = os.Remove(f.Name())
	f.d.finish(f.name, f.size, false)
	return err
}

// sanitize keeps file-name prefixes to [A-Za-z0-9_-], at most 48 bytes, so a
// reason string from an HTTP request cannot escape the directory.
func sanitize(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '-', r == '_':
			b.WriteRune(r)
		case r == ' ' || r == '.' || r == '/':
			b.WriteByte('_')
		}
		if b.Len() >= 48 {
			break
		}
	}
	if b.Len() == 0 {
		return "trace"
	}
	return b.String()
}
