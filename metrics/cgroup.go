package metrics

import (
	"fmt"
	"sync"

	"github.com/govitals/vitals/cgroup"
)

// cgroupSource is where the sampler gets its cgroup figures; tests inject
// their own through withCgroup.
type cgroupSource interface {
	Limits() (cgroup.Limits, error)
	ReadStats(*cgroup.Stats) error
	Close() error
}

// withCgroup replaces the process's cgroup with src (tests).
func withCgroup(src cgroupSource) Option {
	return optionFunc(func(c *config) { c.cgroup = src })
}

// liveCgroup reads the current process's cgroup through package cgroup,
// opening the counter files on first use. A panic inside package cgroup is
// turned into an error: a failure there must not take a scrape down.
type liveCgroup struct {
	once sync.Once
	r    *cgroup.StatReader
	err  error
}

func newLiveCgroup() *liveCgroup { return &liveCgroup{} }

func (c *liveCgroup) Limits() (l cgroup.Limits, err error) {
	defer recoverInto(&err, "read limits")
	return cgroup.Read(), nil
}

func (c *liveCgroup) open() {
	c.once.Do(func() {
		defer recoverInto(&c.err, "open counters")
		c.r, c.err = cgroup.NewStatReader()
		if c.err == nil && c.r == nil {
			c.err = errNoCgroup
		}
	})
}

func (c *liveCgroup) ReadStats(st *cgroup.Stats) (err error) {
	c.open()
	if c.err != nil {
		return c.err
	}
	defer recoverInto(&err, "read counters")
	return c.r.Read(st)
}

func (c *liveCgroup) Close() (err error) {
	if c.r == nil {
		return nil
	}
	defer recoverInto(&err, "close counters")
	return c.r.Close()
}

func recoverInto(err *error, what string) {
	if r := recover(); r != nil {
		*err = fmt.Errorf("metrics: cgroup %s: panic: %v", what, r)
	}
}
