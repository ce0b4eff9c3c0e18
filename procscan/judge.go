package procscan

import (
	"context"
	"fmt"
	"io"
	"math"
	"net/http"
	"strings"
	"sync"

	"github.com/govitals/vitals/checklist"
	"github.com/govitals/vitals/doctor"
)

// vitalsAdmins asks each target's /debug/vitals once without credentials:
// a 401 with a Bearer or Basic challenge is a vitals admin server that
// requires auth (vitals' admin answers every path that way).
func vitalsAdmins(ctx context.Context, client *http.Client, targets []doctor.Target, c *config) []bool {
	out := make([]bool, len(targets))
	sem := make(chan struct{}, c.concurrency)
	var wg sync.WaitGroup
	for i, t := range targets {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			ctx, cancel := context.WithTimeout(ctx, c.timeout)
			defer cancel()
			req, err := http.NewRequestWithContext(ctx, http.MethodGet, t.URL+"/debug/vitals", nil)
			if err != nil {
				return
			}
			req.Header.Set("User-Agent", "vitals-ps")
			resp, err := client.Do(req)
			if err != nil {
				return
			}
			_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 4096))
			resp.Body.Close()
			ch := resp.Header.Get("WWW-Authenticate")
			out[i] = resp.StatusCode == http.StatusUnauthorized && (strings.Contains(ch, "Bearer") || strings.Contains(ch, "Basic"))
		}()
	}
	wg.Wait()
	return out
}

// judge fills the facts from what was read and evaluates the rules.
func (p *Process) judge() {
	f := &p.Facts
	s := p.Settings
	f.GOMAXPROCS, f.GOMAXPROCSSource = s.GOMAXPROCS, s.GOMAXPROCSSource
	cpu, mem := p.Cgroup.CPU, p.Cgroup.Memory
	f.Affinity = cpu.Affinity
	if cpu.Unknown == "" && p.Cgroup.CPUPath != "" {
		f.CPULimitKnown = true
		if cpu.Limited {
			f.CPULimit, f.CPULimitSource = cpu.Quota, cpu.QuotaPath
		}
	}
	f.GOMEMLIMIT = s.GOMEMLIMIT
	if mem.Unknown == "" && p.Cgroup.MemoryPath != "" {
		f.MemoryLimitKnown = true
		if mem.Limited {
			f.MemoryLimit, f.MemoryLimitSource = mem.Max, mem.MaxPath
		}
	}
	f.GOTRACEBACK = s.GOTRACEBACK

	var public []string // "addr: paths" of debug pages on non-loopback listeners
	for _, l := range p.Listeners {
		if l.Probed == "" || l.Error != "" {
			if l.Error != "" {
				p.Notes = append(p.Notes, fmt.Sprintf("%s: probe failed: %s", l.Addr, l.Error))
			}
			continue
		}
		loopbackOnly := !strings.HasPrefix(l.Addr, "0.0.0.0:") && !strings.HasPrefix(l.Addr, "[::]:")
		if l.Metrics || l.VitalsAdmin {
			f.MetricsKnown, f.MetricsExported = true, true
		}
		switch {
		case l.VitalsAdmin:
			if f.AdminAddr == "" || !f.AdminAuth {
				f.AdminAddr, f.AdminAuth = l.Addr, true
			}
		case len(l.Debug) > 0 && loopbackOnly:
			if f.AdminAddr == "" {
				f.AdminAddr = l.Addr
			}
			p.Notes = append(p.Notes, fmt.Sprintf("%s serves %s without auth, to local users only", l.Addr, strings.Join(l.Debug, ", ")))
		case !loopbackOnly:
			f.PublicProbed = true
			if f.DebugOnPublic == nil {
				f.DebugOnPublic = []string{}
			}
			if len(l.Debug) > 0 {
				f.DebugOnPublic = append(f.DebugOnPublic, l.Debug...)
				public = append(public, fmt.Sprintf("%s on %s (every interface)", strings.Join(l.Debug, ", "), l.Addr))
			}
		}
	}

	p.Results = checklist.Evaluate(*f)
	for i := range p.Results {
		r := &p.Results[i]
		switch r.ID {
		case "gomaxprocs":
			if s.GOMAXPROCSRule != "" && r.Status != checklist.Skip {
				r.Evidence += "; " + s.GOMAXPROCSRule
			} else if s.GOMAXPROCSRule != "" {
				r.Evidence = s.GOMAXPROCSRule
			}
		case "gomemlimit":
			switch {
			case r.Status == checklist.Fail && f.GOMEMLIMIT == math.MaxInt64 && s.GOMEMLIMITSource == "runtime":
				r.Evidence = fmt.Sprintf("%s container, no GOMEMLIMIT: the runtime will not stop at the limit (%s; %s)",
					sizeString(f.MemoryLimit), s.GOMEMLIMITRule, f.MemoryLimitSource)
			case s.GOMEMLIMITRule != "" && r.Status != checklist.Skip:
				r.Evidence += "; " + s.GOMEMLIMITRule
			case s.GOMEMLIMITRule != "":
				r.Evidence = s.GOMEMLIMITRule
			}
		case "pprof":
			if r.Status == checklist.Fail && len(public) > 0 {
				r.Evidence = "served without auth: " + strings.Join(public, "; ")
			}
		}
	}
	p.Status = checklist.Worst(p.Results)
	judged := false
	for _, r := range p.Results {
		judged = judged || r.Status != checklist.Skip
	}
	if !judged {
		p.Status = checklist.Skip // nothing could be read to judge
	}
	if p.Vitals {
		p.Notes = append(p.Notes, "links vitals: assumed to run vitals.Start or vitals/auto; `vitals doctor` on its admin port tells for sure")
	}
}

// sizeString formats n in binary units with a space: "512 MiB".
func sizeString(n uint64) string {
	units := []string{"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"}
	v, i := float64(n), 0
	for v >= 1024 && i < len(units)-1 {
		v /= 1024
		i++
	}
	s := strings.TrimRight(strings.TrimRight(fmt.Sprintf("%.1f", v), "0"), ".")
	return s + " " + units[i]
}
