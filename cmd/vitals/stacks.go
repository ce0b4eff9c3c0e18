package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/url"
	"os"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/govitals/vitals/internal/adminclient"
	"github.com/govitals/vitals/stacks"
)

func init() {
	register("stacks", "group, diff and render goroutine dumps (file, - or URL)", runStacks)
}

const stacksUsage = `usage: vitals stacks [flags] [FILE|-|URL]
       vitals stacks [flags] --diff OLD NEW

Reads a goroutine dump (runtime.Stack, /debug/pprof/goroutine?debug=0/1/2,
a panic or SIGQUIT output, or a log holding one), groups goroutines with the
same stack and prints the groups, largest first. With --diff, prints the
groups that appeared, grew, shrank or vanished between two dumps.

A URL is fetched with ?debug=2; an admin server's base URL
(http://127.0.0.1:6060) means its /debug/pprof/goroutine?debug=2. The
credentials are doctor's: --token, --user or $VITALS_ADMIN_TOKEN, sent only
to the URL's own origin (a redirect elsewhere gets none). A 429 is waited
out once when its Retry-After is short; any answer but 200 is an error.

flags:
`

func runStacks(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("stacks", flag.ContinueOnError)
	fs.SetOutput(stderr)
	diff := fs.Bool("diff", false, "compare two dumps: OLD NEW")
	asJSON := fs.Bool("json", false, "write JSON (schema "+stacks.SchemaGroups+" or "+stacks.SchemaDelta+")")
	htmlOut := fs.String("html", "", "write a self-contained HTML page to `FILE`")
	minCount := fs.Int("min", 0, "show only groups of at least `N` goroutines")
	match := fs.String("match", "", "show only groups whose functions, files, states, labels or creator match `REGEXP`")
	similar := fs.String("similar", "args", "grouping: exact (same args), args (ignore args), lines (ignore lines and args)")
	merge := fs.Bool("merge-states", false, "group goroutines regardless of their state")
	byLabels := fs.String("by-labels", "", "split groups by pprof labels: comma-separated `KEYS`, or * for the whole label set")
	full := fs.Bool("full-paths", false, "do not trim GOROOT and module cache from paths")
	color := fs.String("color", "auto", "color: auto (only on a terminal), always, never")
	token := fs.String("token", "", "bearer `TOKEN` for a URL (default $"+adminclient.TokenEnv+")")
	user := fs.String("user", "", "basic auth `USER:PASS` for a URL")
	timeout := fs.Duration("timeout", 30*time.Second, "timeout for fetching a URL")
	fs.Usage = func() {
		fmt.Fprint(stderr, stacksUsage)
		fs.PrintDefaults()
	}
	// Flags may follow the positional arguments.
	pos, code, done := parseFlags(fs, args)
	if done {
		return code
	}
	var opts []stacks.GroupOption
	switch *similar {
	case "exact":
		opts = append(opts, stacks.ExactArgs)
	case "args":
		opts = append(opts, stacks.IgnoreArgs)
	case "lines":
		opts = append(opts, stacks.IgnoreLines)
	default:
		fmt.Fprintf(stderr, "vitals stacks: --similar %q: want exact, args or lines\n", *similar)
		return exitUsage
	}
	if *merge {
		opts = append(opts, stacks.MergeStates())
	}
	if o := labelGrouping(*byLabels); o != nil {
		opts = append(opts, o)
	}
	var re *regexp.Regexp
	if *match != "" {
		var err error
		if re, err = regexp.Compile(*match); err != nil {
			fmt.Fprintf(stderr, "vitals stacks: --match: %v\n", err)
			return exitUsage
		}
	}
	var ropts []stacks.RenderOption
	if *full {
		ropts = append(ropts, stacks.FullPaths())
	}
	if c, err := useColor(*color, stdout); err != nil {
		fmt.Fprintln(stderr, "vitals stacks:", err)
		return exitUsage
	} else if c {
		ropts = append(ropts, stacks.Color(true))
	}
	creds, err := adminclient.FromFlags(*token, *user, nil)
	if err != nil {
		fmt.Fprintf(stderr, "vitals stacks: %v\n", err)
		return exitUsage
	}
	src := source{client: adminclient.New(creds, adminclient.FollowRedirects()), timeout: *timeout, stderr: stderr}
	keep := func(gs []*stacks.Group) []*stacks.Group {
		out := gs[:0:0]
		for _, g := range gs {
			if g.Count >= *minCount && (re == nil || groupMatches(g, re)) {
				out = append(out, g)
			}
		}
		return out
	}

	if *diff {
		if len(pos) != 2 {
			fmt.Fprintln(stderr, "vitals stacks: --diff needs two dumps: OLD NEW")
			return exitUsage
		}
		old, ost, err := src.group(pos[0], opts)
		if err != nil {
			fmt.Fprintf(stderr, "vitals stacks: %s: %v\n", pos[0], err)
			return 1
		}
		warnStats(stderr, pos[0], ost)
		cur, cst, err := src.group(pos[1], opts)
		if err != nil {
			fmt.Fprintf(stderr, "vitals stacks: %s: %v\n", pos[1], err)
			return 1
		}
		warnStats(stderr, pos[1], cst)
		d := stacks.Diff(old, cur)
		d.Appeared, d.Grew, d.Shrank, d.Vanished = keepChanges(d.Appeared, keep), keepChanges(d.Grew, keep), keepChanges(d.Shrank, keep), keepChanges(d.Vanished, keep)
		if *asJSON {
			err = stacks.WriteDeltaJSON(stdout, d)
		} else {
			err = stacks.WriteDeltaText(stdout, d, ropts...)
		}
		if err != nil {
			fmt.Fprintf(stderr, "vitals stacks: %v\n", err)
			return 1
		}
		return 0
	}

	name := "-"
	switch len(pos) {
	case 0:
	case 1:
		name = pos[0]
	default:
		fmt.Fprintln(stderr, "vitals stacks: one dump at a time (or --diff OLD NEW)")
		return exitUsage
	}
	groups, st, err := src.group(name, opts)
	if err != nil {
		fmt.Fprintf(stderr, "vitals stacks: %s: %v\n", name, err)
		return 1
	}
	warnStats(stderr, name, st)
	ropts = append(ropts, stacks.WithStats(st))
	groups = keep(groups)
	if *htmlOut != "" {
		f, err := os.Create(*htmlOut)
		if err != nil {
			fmt.Fprintf(stderr, "vitals stacks: %v\n", err)
			return 1
		}
		title := "goroutines"
		if name != "-" {
			title = name
		}
		err = stacks.WriteHTML(f, groups, append(ropts, stacks.Title(title))...)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			fmt.Fprintf(stderr, "vitals stacks: write %s: %v\n", *htmlOut, err)
			return 1
		}
		if !*asJSON {
			fmt.Fprintf(stdout, "wrote %s: %d groups\n", *htmlOut, len(groups))
			return 0
		}
	}
	if *asJSON {
		err = stacks.WriteJSON(stdout, groups, stacks.WithStats(st))
	} else {
		err = stacks.WriteText(stdout, groups, ropts...)
	}
	if err != nil {
		fmt.Fprintf(stderr, "vitals stacks: %v\n", err)
		return 1
	}
	return 0
}

// labelGrouping turns --by-labels into a grouping option: "" none, "*"
// the whole label set, else the listed keys.
func labelGrouping(v string) stacks.GroupOption {
	switch strings.TrimSpace(v) {
	case "":
		return nil
	case "*":
		return stacks.ByLabels()
	}
	var keys []string
	for _, k := range strings.Split(v, ",") {
		if k = strings.TrimSpace(k); k != "" {
			keys = append(keys, k)
		}
	}
	return stacks.ByLabels(keys...)
}

// warnStats writes one warning line on stderr for each thing the parser
// could not read in the dump called name: nothing is dropped silently.
func warnStats(stderr io.Writer, name string, st stacks.Stats) {
	for _, p := range st.Problems() {
		fmt.Fprintf(stderr, "vitals stacks: warning: %s: %s\n", termSafeArg(name), p)
	}
}

// termSafeArg quotes a command-line name that holds a control character,
// so a file name cannot act on the terminal either.
func termSafeArg(s string) string {
	for _, r := range s {
		if r < 0x20 || r == 0x7f || (r >= 0x80 && r <= 0x9f) || r == 0x202e || r == 0x2066 || r == 0x2067 || r == 0x2068 || r == 0x202d {
			return strconv.Quote(s)
		}
	}
	return s
}

func keepChanges(cs []*stacks.GroupChange, keep func([]*stacks.Group) []*stacks.Group) []*stacks.GroupChange {
	var out []*stacks.GroupChange
	for _, c := range cs {
		if len(keep([]*stacks.Group{c.Group})) == 1 {
			out = append(out, c)
		}
	}
	return out
}

func groupMatches(g *stacks.Group, re *regexp.Regexp) bool {
	for st := range g.States {
		if re.MatchString(st) {
			return true
		}
	}
	for _, f := range g.Frames {
		if re.MatchString(f.Func) || re.MatchString(f.File) {
			return true
		}
	}
	for k, v := range g.Labels {
		if re.MatchString(k) || re.MatchString(v) {
			return true
		}
	}
	return g.CreatedBy != nil && re.MatchString(g.CreatedBy.Func)
}

// source opens dumps: a file, "-" for stdin, or an http(s) URL fetched
// through the shared admin client.
type source struct {
	client  *adminclient.Client
	timeout time.Duration
	stderr  io.Writer
}

// group streams the dump named by name into groups, with what the parser
// could not read.
func (s source) group(name string, opts []stacks.GroupOption) ([]*stacks.Group, stacks.Stats, error) {
	r, closer, err := s.open(name)
	if err != nil {
		return nil, stacks.Stats{}, err
	}
	defer closer()
	return stacks.GroupReaderStats(r, opts...)
}

func (s source) open(name string) (io.Reader, func(), error) {
	if name == "-" {
		return openStdin("stacks", "a goroutine dump", s.stderr), func() {}, nil
	}
	if !strings.HasPrefix(name, "http://") && !strings.HasPrefix(name, "https://") {
		f, err := os.Open(name)
		if err != nil {
			return nil, nil, err
		}
		return f, func() { f.Close() }, nil
	}
	u, err := dumpURL(name)
	if err != nil {
		return nil, nil, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), s.timeout)
	resp, err := s.client.Get(ctx, u, true)
	if err != nil {
		cancel()
		return nil, nil, err
	}
	if age := resp.Header.Get("Age"); age != "" {
		// vitals' admin shares a dump while it is fresh (admin.WithProfileReuse).
		fmt.Fprintf(s.stderr, "vitals: %s: a shared dump written %ss ago\n", adminclient.Redact(u), adminclient.Clean(age))
	}
	return resp.Body, func() { resp.Body.Close(); cancel() }, nil
}

// dumpURL turns what the user gave into the URL of a goroutine dump: an
// admin base URL ("http://host:6060", "…/debug/pprof/", "…/debug/vitals") gets
// /debug/pprof/goroutine, and any URL without a debug parameter ?debug=2.
func dumpURL(raw string) (string, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return "", fmt.Errorf("bad URL %q: %w", adminclient.Redact(raw), errors.Unwrap(err))
	}
	if u.Host == "" {
		return "", fmt.Errorf("bad URL %q: no host", u.Redacted())
	}
	switch strings.TrimRight(u.Path, "/") {
	case "":
		u.Path = "/debug/pprof/goroutine"
	case "/debug/pprof", "/debug/vitals":
		u.Path = "/debug/pprof/goroutine"
	}
	q := u.Query()
	if q.Get("debug") == "" {
		q.Set("debug", "2")
		u.RawQuery = q.Encode()
	}
	return u.String(), nil
}
