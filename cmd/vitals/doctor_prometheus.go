package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/govitals/vitals/checklist"
	"github.com/govitals/vitals/doctor"
	"github.com/govitals/vitals/internal/adminclient"
	"github.com/govitals/vitals/promtargets"
)

// promFlags are doctor's flags for auditing what a Prometheus server
// scrapes.
type promFlags struct {
	url    *string
	jobs   listFlag
	labels listFlag
}

// prometheusFlags registers --prometheus, --job and --label on fs.
func prometheusFlags(fs *flag.FlagSet) *promFlags {
	p := &promFlags{url: fs.String("prometheus", "", "audit every active target of the Prometheus server at this URL (its /api/v1/targets)")}
	fs.Var(&p.jobs, "job", "with --prometheus: only the targets of this job (repeatable)")
	fs.Var(&p.labels, "label", "with --prometheus: only the targets with this label, as name=value (repeatable)")
	return p
}

// promJob is one job's targets and their audits, as --json writes them.
type promJob struct {
	Job     string       `json:"job"`
	Targets []promTarget `json:"targets"`
}

type promTarget struct {
	promtargets.Target
	Audit doctor.Audit `json:"audit"`
}

// promOutput is the --json answer of doctor --prometheus.
type promOutput struct {
	Schema     int              `json:"schema"`
	Prometheus string           `json:"prometheus"`
	Status     checklist.Status `json:"status"`
	ExitCode   int              `json:"exit_code"`
	Jobs       []promJob        `json:"jobs"`
}

// run finds the targets through Prometheus, audits each (vitals admin
// with the credentials, or the public probe where no vitals admin
// answers), and prints them grouped by job.
func (p *promFlags) run(ctx context.Context, others int, opts []doctor.Option, asJSON, color bool, stdout, stderr io.Writer) int {
	if others > 0 {
		fmt.Fprintln(stderr, "vitals doctor: --prometheus finds its own targets; give no URL, --public or -f with it")
		return exitUsage
	}
	var popts []promtargets.Option
	for _, j := range p.jobs {
		popts = append(popts, promtargets.WithJob(j))
	}
	for _, l := range p.labels {
		k, v, err := promtargets.ParseLabel(l)
		if err != nil {
			fmt.Fprintln(stderr, "vitals doctor:", err)
			return exitUsage
		}
		popts = append(popts, promtargets.WithLabel(k, v))
	}
	targets, err := promtargets.Active(ctx, *p.url, popts...)
	if err != nil {
		fmt.Fprintln(stderr, "vitals doctor:", err)
		return 2
	}
	if len(targets) == 0 {
		fmt.Fprintf(stderr, "vitals doctor: no active target of %s matches (jobs %v, labels %v)\n", adminclient.Redact(*p.url), p.jobs, p.labels)
		return 2
	}
	var urls []string
	var idx []int // urls[k] belongs to targets[idx[k]]
	audits := make([]doctor.Audit, len(targets))
	for i, t := range targets {
		if t.AdminURL == "" {
			audits[i] = doctor.Audit{Target: doctor.Target{URL: t.ScrapeURL, Kind: doctor.KindVitals}, Status: checklist.Fail, Error: t.AdminError}
			continue
		}
		urls = append(urls, t.AdminURL)
		idx = append(idx, i)
	}
	for k, a := range doctor.RunDiscovered(ctx, urls, opts...) {
		audits[idx[k]] = a
	}

	var jobs []promJob
	for i, t := range targets {
		if len(jobs) == 0 || jobs[len(jobs)-1].Job != t.Job {
			jobs = append(jobs, promJob{Job: t.Job})
		}
		j := &jobs[len(jobs)-1]
		j.Targets = append(j.Targets, promTarget{Target: t, Audit: audits[i]})
	}
	code := doctor.ExitCode(audits)
	if asJSON {
		st := []checklist.Status{checklist.Pass, checklist.Warn, checklist.Fail}[code]
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(promOutput{Schema: 1, Prometheus: adminclient.Redact(*p.url), Status: st, ExitCode: code, Jobs: jobs}); err != nil {
			fmt.Fprintln(stderr, "vitals doctor:", err)
			return 2
		}
		return code
	}
	var b strings.Builder
	counts := map[checklist.Status]int{}
	for i, j := range jobs {
		if i > 0 {
			b.WriteString("\n")
		}
		fmt.Fprintf(&b, "== job %q: %d targets ==\n", j.Job, len(j.Targets))
		for k, t := range j.Targets {
			if k > 0 {
				b.WriteString("\n")
			}
			counts[t.Audit.Status]++
			fmt.Fprintf(&b, "scraped at %s (%s)\n", t.ScrapeURL, t.Health)
			if err := doctor.WriteText(&b, []doctor.Audit{t.Audit}, color); err != nil {
				fmt.Fprintln(stderr, "vitals doctor:", err)
				return 2
			}
		}
	}
	fmt.Fprintf(&b, "\n%d targets of %s in %d jobs: %d fail, %d warn, %d pass\n", len(audits), adminclient.Redact(*p.url), len(jobs),
		counts[checklist.Fail], counts[checklist.Warn], counts[checklist.Pass]+counts[checklist.Skip])
	if _, err := io.WriteString(stdout, b.String()); err != nil {
		return 2
	}
	return code
}
