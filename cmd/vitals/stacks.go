package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/govitals/vitals/stacks"
)

func init() {
	register("stacks", "group, diff and render goroutine dumps (file, - or URL)", runStacks)
}

const stacksUsage = `usage: vitals stacks [flags] [FILE|-|URL]
       vitals stacks [flags] --diff OLD NEW

Reads a goroutine dump (runtime.Stack, /debug/pprof/goroutine?debug=0/1/2,
a panic or SIGQUIT output, or a log holding one), groups goroutines with the
same stack and prints the groups, largest first. A URL is fetched with
?debug=2. With --diff, prints the groups that appeared, grew, shrank or
vanished between two dumps.

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
	token := fs.String("token", "", "bearer `TOKEN` for a URL")
	user := fs.String("user", "", "basic auth `USER:PASS` for a URL")
	timeout := fs.Duration("timeout", 30*time.Second, "timeout for fetching a URL")
	fs.Usage = func() {
		fmt.Fprint(stderr, stacksUsage)
		fs.PrintDefaults()
	}
	// Flags may follow the positional arguments.
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			if err == flag.ErrHelp {
				return 0
			}
			return 2
		}
		if fs.NArg() == 0 {
			break
		}
		pos = append(pos, fs.Arg(0))
		args = fs.Args()[1:]
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
		return 2
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
			return 2
		}
	}
	var ropts []stacks.RenderOption
	if *full {
		ropts = append(ropts, stacks.FullPaths())
	}
	switch *color {
	case "always":
		ropts = append(ropts, stacks.Color(true))
	case "auto":
		ropts = append(ropts, stacks.Color(colorTerminal(stdout)))
	case "never":
	default:
		fmt.Fprintf(stderr, "vitals stacks: --color %q: want auto, always or never\n", *color)
		return 2
	}
	src := source{token: *token, user: *user, timeout: *timeout}
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
			return 2
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
		return 2
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

// source opens dumps: a file, "-" for stdin, or an http(s) URL.
type source struct {
	token, user string
	timeout     time.Duration
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
		return os.Stdin, func() {}, nil
	}
	if !strings.HasPrefix(name, "http://") && !strings.HasPrefix(name, "https://") {
		f, err := os.Open(name)
		if err != nil {
			return nil, nil, err
		}
		return f, func() { f.Close() }, nil
	}
	u, err := url.Parse(name)
	if err != nil {
		return nil, nil, err
	}
	q := u.Query()
	if q.Get("debug") == "" {
		q.Set("debug", "2")
		u.RawQuery = q.Encode()
	}
	ctx, cancel := context.WithTimeout(context.Background(), s.timeout)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		cancel()
		return nil, nil, err
	}
	if s.token != "" {
		req.Header.Set("Authorization", "Bearer "+s.token)
	}
	if s.user != "" {
		user, pass, _ := strings.Cut(s.user, ":")
		req.SetBasicAuth(user, pass)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		cancel()
		return nil, nil, err
	}
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 200))
		resp.Body.Close()
		cancel()
		return nil, nil, fmt.Errorf("GET %s: %s: %s", u.Redacted(), resp.Status, strings.TrimSpace(string(b)))
	}
	return resp.Body, func() { resp.Body.Close(); cancel() }, nil
}
