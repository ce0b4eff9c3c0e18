package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/govitals/vitals"
	"github.com/govitals/vitals/admin"
	"github.com/govitals/vitals/incident"
	"github.com/govitals/vitals/incident/inspect"
	"github.com/govitals/vitals/internal/adminclient"
)

func init() {
	register("incident", "summarise incident bundles (FILE|DIR) or capture one from a service (capture URL)", runIncident)
}

// runIncident summarises a bundle, or every bundle of a directory (newest
// in full), or asks a service's admin server for a manual capture.
// Exit code: 0 done, 1 a bundle could not be read or the capture failed,
// 64 usage errors.
func runIncident(args []string, stdout, stderr io.Writer) int {
	if len(args) > 0 && args[0] == "capture" {
		return runIncidentCapture(args[1:], stdout, stderr)
	}
	fs := flag.NewFlagSet("incident", flag.ContinueOnError)
	fs.SetOutput(stderr)
	asJSON := fs.Bool("json", false, "print the summaries as JSON (see inspect.Summary)")
	top := fs.Int("top", 10, "heap sites, CPU sites and goroutine groups to show")
	extract := fs.String("extract", "", "also unpack the bundle's parts into this directory, for go tool pprof / go tool trace / vitals stacks")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: vitals incident [--json] [--top N] [--extract DIR] FILE|DIR   summarise bundles (a directory: every bundle, the newest in full)")
		fmt.Fprintln(stderr, "       vitals incident capture [--token T] [--user u:p] [--reason R] URL   ask a service's admin server for a bundle now")
		fs.PrintDefaults()
	}
	paths, code, done := parseFlags(fs, args)
	if done {
		return code
	}
	if len(paths) != 1 {
		fs.Usage()
		return exitUsage
	}
	files, err := bundlesAt(paths[0])
	if err != nil {
		fmt.Fprintf(stderr, "vitals incident: %v\n", err)
		return 1
	}
	if *extract != "" && len(files) != 1 {
		fmt.Fprintln(stderr, "vitals incident: --extract needs one bundle, not a directory")
		return exitUsage
	}
	code = exitOK
	var sums []*inspect.Summary
	for i, f := range files {
		b, err := inspect.Open(f)
		if err != nil {
			fmt.Fprintf(stderr, "vitals incident: %v\n", err)
			code = 1
			continue
		}
		newest := i == len(files)-1
		if !*asJSON && !newest {
			m := b.Manifest
			fmt.Fprintf(stdout, "%s  %-10s %s  (%s)\n", m.Time.UTC().Format(time.RFC3339), m.Trigger, m.Reason, filepath.Base(f))
			b.Close()
			continue
		}
		s := inspect.Summarize(b, *top)
		if *extract != "" {
			written, err := b.Extract(*extract)
			if err != nil {
				fmt.Fprintf(stderr, "vitals incident: %v\n", err)
				code = 1
			} else {
				fmt.Fprintf(stderr, "vitals incident: extracted %d parts into %s\n", len(written), *extract)
			}
		}
		b.Close()
		if len(s.Problems) > 0 {
			code = 1
		}
		if *asJSON {
			sums = append(sums, s)
			continue
		}
		if len(files) > 1 {
			fmt.Fprintln(stdout)
		}
		if err := inspect.WriteText(stdout, s); err != nil {
			fmt.Fprintf(stderr, "vitals incident: %v\n", err)
			return 1
		}
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		var v any = sums
		if st, err := os.Stat(paths[0]); err == nil && !st.IsDir() && len(sums) == 1 {
			v = sums[0]
		}
		if err := enc.Encode(v); err != nil {
			fmt.Fprintf(stderr, "vitals incident: %v\n", err)
			return 1
		}
	}
	return code
}

// bundlesAt returns path, or the bundles in directory path oldest first.
func bundlesAt(path string) ([]string, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if !st.IsDir() {
		return []string{path}, nil
	}
	ents, err := os.ReadDir(path)
	if err != nil {
		return nil, err
	}
	type f struct {
		p   string
		mod time.Time
	}
	var fs []f
	for _, e := range ents {
		if e.Type().IsRegular() && strings.HasSuffix(e.Name(), incident.BundleSuffix) {
			if info, err := e.Info(); err == nil {
				fs = append(fs, f{filepath.Join(path, e.Name()), info.ModTime()})
			}
		}
	}
	if len(fs) == 0 {
		return nil, fmt.Errorf("no *%s bundles in %s", incident.BundleSuffix, path)
	}
	sort.Slice(fs, func(i, j int) bool {
		if !fs[i].mod.Equal(fs[j].mod) {
			return fs[i].mod.Before(fs[j].mod)
		}
		return fs[i].p < fs[j].p
	})
	out := make([]string, len(fs))
	for i := range fs {
		out[i] = fs[i].p
	}
	return out, nil
}

func runIncidentCapture(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("incident capture", flag.ContinueOnError)
	fs.SetOutput(stderr)
	token := fs.String("token", "", "bearer token for the admin endpoints (default $"+admin.TokenEnv+")")
	user := fs.String("user", "", "basic auth for the admin endpoints, as user:password")
	reason := fs.String("reason", "vitals incident capture", "why, recorded in the manifest")
	timeout := fs.Duration("timeout", 2*time.Minute, "time allowed for the capture")
	out := fs.String("o", "", "also download the bundle into this file")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: vitals incident capture [flags] URL   (URL: the service's admin address, e.g. http://127.0.0.1:6060)")
		fs.PrintDefaults()
	}
	urls, code, done := parseFlags(fs, args)
	if done {
		return code
	}
	if len(urls) != 1 {
		fs.Usage()
		return exitUsage
	}
	base, err := url.Parse(strings.TrimRight(urls[0], "/"))
	if err != nil || (base.Scheme != "http" && base.Scheme != "https") || base.Host == "" {
		fmt.Fprintf(stderr, "vitals incident capture: %q is not an http(s) URL\n", adminclient.Redact(urls[0]))
		return exitUsage
	}
	creds, err := adminclient.FromFlags(*token, *user, nil)
	if err != nil {
		fmt.Fprintf(stderr, "vitals incident capture: %v\n", err)
		return exitUsage
	}
	auth := func(req *http.Request) error {
		if creds.Token != "" {
			req.Header.Set("Authorization", "Bearer "+creds.Token)
		}
		if creds.Basic {
			req.SetBasicAuth(creds.User, creds.Password)
		}
		return nil
	}
	// The capture is a POST to the origin it was given: no redirect is
	// followed, so the credentials never reach another origin.
	hc := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	route := base.String() + vitals.IncidentsRoute
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, route+"capture?reason="+url.QueryEscape(*reason), nil)
	if err == nil {
		err = auth(req)
	}
	if err != nil {
		fmt.Fprintf(stderr, "vitals incident capture: %v\n", err)
		return exitUsage
	}
	resp, err := hc.Do(req)
	if err != nil {
		fmt.Fprintf(stderr, "vitals incident capture: %v\n", adminclient.Clean(err.Error()))
		return 1
	}
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	resp.Body.Close()
	var inc incident.Incident
	if resp.StatusCode != http.StatusOK || json.Unmarshal(body, &inc) != nil || inc.Path == "" {
		fmt.Fprintf(stderr, "vitals incident capture: %s: %s\n", resp.Status, adminclient.Clean(strings.TrimSpace(string(body))))
		return 1
	}
	fmt.Fprintf(stdout, "captured %s (%d bytes, %v)\n", inc.Path, inc.Bytes, inc.Took.Round(time.Millisecond))
	if *out == "" {
		return 0
	}
	req, _ = http.NewRequestWithContext(ctx, http.MethodGet, route+url.PathEscape(filepath.Base(inc.Path)), nil)
	_ = auth(req)
	resp, err = hc.Do(req)
	if err != nil {
		fmt.Fprintf(stderr, "vitals incident capture: download: %v\n", err)
		return 1
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		fmt.Fprintf(stderr, "vitals incident capture: download: %s\n", resp.Status)
		return 1
	}
	f, err := os.Create(*out)
	if err == nil {
		_, err = io.Copy(f, resp.Body)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
	}
	if err != nil {
		fmt.Fprintf(stderr, "vitals incident capture: download: %v\n", err)
		return 1
	}
	fmt.Fprintf(stdout, "downloaded %s\n", *out)
	return 0
}
