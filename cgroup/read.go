package cgroup

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
)

// newConfig applies opts over the defaults.
func newConfig(opts []Option) *config {
	c := &config{root: "/"}
	for _, o := range opts {
		if o != nil {
			o.apply(c)
		}
	}
	if c.root == "" {
		c.root = "/"
	}
	if c.readFile == nil {
		c.readFile = func(name string) ([]byte, error) { return readFileInto(c.root, name, &c.scratch) }
	}
	return c
}

type optionFunc func(*config)

func (f optionFunc) apply(c *config) { f(c) }

// withAffinity overrides the affinity count (tests).
func withAffinity(n int) Option { return optionFunc(func(c *config) { c.affinity = n }) }

// withReadFile replaces os.ReadFile (tests simulate EACCES with it, since
// root reads a chmod 000 file anyway).
func withReadFile(f func(string) ([]byte, error)) Option {
	return optionFunc(func(c *config) { c.readFile = f })
}

// realRoot reports whether c reads the live system rather than a fixture.
func (c *config) realRoot() bool { return filepath.Clean(c.root) == "/" }

// read reads p (an absolute path in the process's view) below the root.
// Errors name p, not the fixture path, so messages are the same everywhere.
// The result may alias a scratch buffer: use it before the next read.
func (c *config) read(p string) ([]byte, error) {
	b, err := c.readFile(filepath.Join(c.root, filepath.FromSlash(p)))
	if err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return nil, &fs.PathError{Op: "read", Path: p, Err: err}
	}
	return b, nil
}

// exists reports whether p below the root exists (any error counts as no).
// Below a root other than "/" it does not follow a symbolic link out of the
// root: a hostile tree learns nothing about the files beyond it.
func (c *config) exists(p string) bool {
	name := filepath.Join(c.root, filepath.FromSlash(p))
	if c.realRoot() {
		_, err := os.Stat(name)
		return err == nil
	}
	_, err := c.readFile(name)
	return err == nil
}

// location is where one controller's cgroup is, as seen by the process.
type location struct {
	version Version // V1 or V2
	dir     string  // the process's cgroup directory, e.g. /sys/fs/cgroup/cpu/docker/abc
	mount   string  // the mount point the walk stops at, e.g. /sys/fs/cgroup/cpu
	unknown string  // why dir is empty
}

// maxLevels bounds the cgroup levels read between a process's cgroup and
// its mount point. Real hierarchies are a handful deep (kubepods, QoS class,
// pod, container); a hostile tree 10,000 deep must not cost quadratic work.
const maxLevels = 64

// ancestors returns dir and each parent up to and including the mount point,
// at most maxLevels of them (the nearest).
func (l location) ancestors() []string {
	var out []string
	for d := l.dir; len(out) < maxLevels; d = path.Dir(d) {
		out = append(out, d)
		if d == l.mount || d == "/" || d == "." {
			return out
		}
	}
	return out
}

// depth is how many levels dir lies below the mount point.
func (l location) depth() int {
	rel := strings.TrimPrefix(strings.TrimPrefix(l.dir, l.mount), "/")
	if rel == "" {
		return 0
	}
	return strings.Count(rel, "/") + 1
}

// hierarchy is what /proc/self/cgroup and /proc/self/mountinfo said.
type hierarchy struct {
	v1     map[string]string // controller -> cgroup path (v1 lines)
	v2     string            // cgroup path of the 0:: line; "" if none
	hasV2  bool
	mounts []mountInfo
	err    error // /proc/self/cgroup unreadable
}

// loadHierarchy reads and parses /proc/self/cgroup and /proc/self/mountinfo.
// Malformed lines are skipped with one warning per file.
func loadHierarchy(c *config, warn func(string, ...any)) hierarchy {
	h := hierarchy{v1: map[string]string{}}
	b, err := c.read("/proc/self/cgroup")
	if err != nil {
		h.err = fmt.Errorf("cgroup: %w", err)
		warn("%v.", h.err)
		return h
	}
	bad := 0
	var firstBad error
	for line := range strings.Lines(string(b)) {
		if strings.TrimSpace(line) == "" {
			continue
		}
		pc, err := parseProcCgroupLine(line)
		if err != nil {
			bad++
			if firstBad == nil {
				firstBad = err
			}
			continue
		}
		if pc.id == "0" && pc.controllers == "" {
			h.v2, h.hasV2 = pc.path, true
			continue
		}
		for ctl := range strings.SplitSeq(pc.controllers, ",") {
			if ctl != "" && !strings.HasPrefix(ctl, "name=") {
				h.v1[ctl] = pc.path
			}
		}
	}
	if bad > 0 {
		warn("cgroup: skipped %d malformed line(s) in /proc/self/cgroup, first: %v.", bad, firstBad)
	}
	if len(h.v1) == 0 && !h.hasV2 {
		if bad > 0 {
			h.err = fmt.Errorf("cgroup: /proc/self/cgroup: no usable line: %w", firstBad)
		} else {
			h.err = errors.New("cgroup: /proc/self/cgroup lists no cgroup")
		}
		return h
	}
	b, err = c.read("/proc/self/mountinfo")
	if err != nil {
		h.err = fmt.Errorf("cgroup: %w", err)
		warn("%v.", h.err)
		return h
	}
	bad, firstBad = 0, nil
	for line := range strings.Lines(string(b)) {
		if strings.TrimSpace(line) == "" {
			continue
		}
		mi, err := parseMountInfoLine(line)
		if err != nil {
			bad++
			if firstBad == nil {
				firstBad = err
			}
			continue
		}
		if mi.fsType == "cgroup" || mi.fsType == "cgroup2" {
			h.mounts = append(h.mounts, mi)
		}
	}
	if bad > 0 {
		warn("cgroup: skipped %d malformed line(s) in /proc/self/mountinfo, first: %v.", bad, firstBad)
	}
	return h
}

// locate finds the directory of controller ctl ("cpu", "memory", "cpuset"):
// a v1 hierarchy with ctl wins over the unified one, as in the kernel's
// hybrid mode where a controller is bound to at most one hierarchy.
func (h hierarchy) locate(ctl string, warn func(string, ...any)) location {
	if h.err != nil {
		return location{unknown: h.err.Error()}
	}
	if p, ok := h.v1[ctl]; ok {
		return h.mountFor(V1, ctl, p, warn)
	}
	if h.hasV2 {
		return h.mountFor(V2, ctl, h.v2, warn)
	}
	return location{unknown: fmt.Sprintf("cgroup: /proc/self/cgroup has no %s controller and no cgroup2 line", ctl)}
}

// mountFor translates cgroup path p through the first matching mount, the
// way the Go runtime does: strip the mount's root from p (a root of "/"
// keeps p whole) and append the rest to the mount point. A mount whose
// root does not contain p, or that leaves a path starting with /.. (the
// cgroup is outside this cgroup namespace), cannot reach the cgroup.
func (h hierarchy) mountFor(v Version, ctl, p string, warn func(string, ...any)) location {
	outside := false
	for _, m := range h.mounts {
		if v == V1 && (m.fsType != "cgroup" || !hasController(m.superOpts, ctl)) {
			continue
		}
		if v == V2 && m.fsType != "cgroup2" {
			continue
		}
		rel, ok := relativeTo(p, m.root)
		if !ok {
			continue
		}
		if rel == "/.." || strings.HasPrefix(rel, "/../") {
			outside = true
			continue
		}
		dir, mnt := path.Clean(m.mountPoint+rel), path.Clean(m.mountPoint)
		if dir != mnt && !strings.HasPrefix(dir, strings.TrimSuffix(mnt, "/")+"/") {
			outside = true // ".." inside the path climbs out of the mount
			continue
		}
		return location{version: v, dir: dir, mount: mnt}
	}
	kind := "cgroup2"
	if v == V1 {
		kind = "cgroup v1 " + ctl
	}
	if outside {
		msg := fmt.Sprintf("cgroup: %s cgroup %s is outside this cgroup namespace; no mount reaches it", ctl, p)
		warn("%s.", msg)
		return location{unknown: msg}
	}
	return location{unknown: fmt.Sprintf("cgroup: no %s mount in /proc/self/mountinfo contains %s", kind, p)}
}

// relativeTo returns p relative to mount root r, with a leading slash, or
// false when r does not contain p. A root of "/" contains every path.
func relativeTo(p, r string) (string, bool) {
	if r == "/" {
		return p, true
	}
	r = strings.TrimSuffix(r, "/")
	if p == r {
		return "/", true
	}
	if strings.HasPrefix(p, r+"/") {
		return p[len(r):], true
	}
	return "", false
}
