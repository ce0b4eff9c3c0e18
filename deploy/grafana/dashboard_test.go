package grafana_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/govitals/vitals"
	"github.com/govitals/vitals/admin"
	"github.com/govitals/vitals/deploy/grafana"
)

// dashboard is the part of Grafana's JSON model the tests read.
type dashboard struct {
	Title         string  `json:"title"`
	UID           string  `json:"uid"`
	SchemaVersion int     `json:"schemaVersion"`
	Panels        []panel `json:"panels"`
	Templating    struct {
		List []struct {
			Name       string `json:"name"`
			Type       string `json:"type"`
			Definition string `json:"definition"`
		} `json:"list"`
	} `json:"templating"`
}

type panel struct {
	ID      int    `json:"id"`
	Type    string `json:"type"`
	Title   string `json:"title"`
	GridPos *struct {
		X, Y, W, H int
	} `json:"gridPos"`
	Datasource *struct {
		UID string `json:"uid"`
	} `json:"datasource"`
	Targets []struct {
		Expr string `json:"expr"`
	} `json:"targets"`
}

func load(t *testing.T) dashboard {
	t.Helper()
	var d dashboard
	dec := json.NewDecoder(strings.NewReader(string(grafana.Dashboard)))
	if err := dec.Decode(&d); err != nil {
		t.Fatalf("vitals-dashboard.json: %v", err)
	}
	return d
}

// queries returns every PromQL expression of the dashboard: panel targets
// and the query variables' label_values selectors.
func queries(t *testing.T, d dashboard) []string {
	t.Helper()
	var qs []string
	for _, p := range d.Panels {
		for _, tg := range p.Targets {
			qs = append(qs, tg.Expr)
		}
	}
	lv := regexp.MustCompile(`^label_values\((.+), *[a-zA-Z_]+\)$`)
	for _, v := range d.Templating.List {
		if v.Type != "query" {
			continue
		}
		m := lv.FindStringSubmatch(v.Definition)
		if m == nil {
			t.Errorf("variable %s: definition %q is not label_values(selector, label)", v.Name, v.Definition)
			continue
		}
		qs = append(qs, m[1])
	}
	return qs
}

var (
	strLit   = regexp.MustCompile(`"(?:[^"\\]|\\.)*"`)
	braces   = regexp.MustCompile(`\{[^}]*\}`)
	brackets = regexp.MustCompile(`\[[^\]]*\]`)
	grouping = regexp.MustCompile(`\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)`)
	ident    = regexp.MustCompile(`[a-zA-Z_:][a-zA-Z0-9_:]*(\s*\()?`)
	duration = regexp.MustCompile(`\b[0-9]+(ms|s|m|h|d|w|y)\b`)
	number   = regexp.MustCompile(`\b[0-9][0-9.eE+-]*\b`)
	keywords = []string{"and", "or", "unless", "bool", "offset", "by", "without", "on", "ignoring", "group_left", "group_right", "inf", "nan"}
)

// metricNames returns the metric names a PromQL expression selects: the
// identifiers left once strings, label matchers, ranges, grouping clauses,
// numbers, function calls and keywords are taken out.
func metricNames(expr string) []string {
	s := strLit.ReplaceAllString(expr, `""`)
	s = braces.ReplaceAllString(s, " ")
	s = brackets.ReplaceAllString(s, " ")
	s = grouping.ReplaceAllString(s, " ")
	s = duration.ReplaceAllString(s, " ")
	s = number.ReplaceAllString(s, " ")
	var out []string
	for _, m := range ident.FindAllString(s, -1) {
		if strings.HasSuffix(m, "(") || slices.Contains(keywords, strings.ToLower(m)) {
			continue
		}
		out = append(out, m)
	}
	return out
}

func TestMetricNames(t *testing.T) {
	tests := []struct {
		expr string
		want []string
	}{
		{`rate(a_total{job=~"$job",x="y{z}"}[$__rate_interval]) / on (instance) group_left (le) b`, []string{"a_total", "b"}},
		{`histogram_quantile(0.99, sum by (le, job) (rate(c_bucket[5m])))`, []string{"c_bucket"}},
		{`d > 9e18 and e == 0`, []string{"d", "e"}},
		{`f offset 5m`, []string{"f"}},
	}
	for _, tt := range tests {
		if got := metricNames(tt.expr); !slices.Equal(got, tt.want) {
			t.Errorf("metricNames(%q) = %v, want %v", tt.expr, got, tt.want)
		}
	}
}

// servedNames starts a service on vitals.Start, scrapes its admin /metrics
// with the token, and returns every series name a query can select
// (histograms as _bucket, _sum and _count; summaries as the name, _sum and
// _count).
func servedNames(t *testing.T) map[string]bool {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	const token = "grafana-test-token"
	svc, err := vitals.Start(ctx, vitals.AdminOptions(admin.WithAddr("127.0.0.1:0"), admin.WithBearerToken(token)))
	if err != nil {
		t.Fatal(err)
	}
	defer svc.Close()
	req, err := http.NewRequest("GET", "http://"+svc.Admin().Addr()+"/metrics", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /metrics: %s", resp.Status)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	mfs, err := p.TextToMetricFamilies(resp.Body)
	if err != nil {
		t.Fatalf("parse /metrics: %v", err)
	}
	names := map[string]bool{}
	for name, mf := range mfs {
		switch mf.GetType() {
		case dto.MetricType_HISTOGRAM, dto.MetricType_GAUGE_HISTOGRAM:
			names[name+"_bucket"], names[name+"_sum"], names[name+"_count"] = true, true, true
		case dto.MetricType_SUMMARY:
			names[name], names[name+"_sum"], names[name+"_count"] = true, true, true
		default:
			names[name] = true
		}
	}
	if len(names) < 50 {
		t.Fatalf("only %d names served", len(names))
	}
	return names
}

// TestDashboardMetricsAreServed holds every metric name the dashboard
// queries to the names a real vitals service serves on this Go version.
func TestDashboardMetricsAreServed(t *testing.T) {
	d := load(t)
	served := servedNames(t)
	used := map[string]bool{}
	for _, q := range queries(t, d) {
		names := metricNames(q)
		if len(names) == 0 {
			t.Errorf("query %q selects no metric", q)
		}
		for _, n := range names {
			used[n] = true
			if !served[n] {
				t.Errorf("query %q uses %s, which vitals does not serve", q, n)
			}
		}
	}
	// The check can fail: a name vitals does not serve is caught.
	for _, n := range metricNames(`rate(vitals_no_such_metric_total[5m])`) {
		if served[n] {
			t.Errorf("%s counted as served", n)
		}
	}
	var list []string
	for n := range used {
		list = append(list, n)
	}
	sort.Strings(list)
	t.Logf("%d metric names used: %v", len(list), list)
	for _, must := range []string{"vitals_checklist_ok", "vitals_gomaxprocs", "vitals_cgroup_cpu_throttled_periods_total", "vitals_gomemlimit_bytes", "go_sched_latencies_seconds_bucket"} {
		if !used[must] {
			t.Errorf("the dashboard does not chart %s", must)
		}
	}
}

// TestDashboardShape checks what Grafana needs to import the dashboard:
// a uid, unique panel ids, a grid position on every panel, and queries
// through the ${datasource} variable.
func TestDashboardShape(t *testing.T) {
	d := load(t)
	if d.UID == "" || d.Title == "" || d.SchemaVersion < 36 {
		t.Errorf("uid %q, title %q, schemaVersion %d", d.UID, d.Title, d.SchemaVersion)
	}
	ids := map[int]bool{}
	for _, p := range d.Panels {
		if ids[p.ID] || p.ID == 0 {
			t.Errorf("panel %q: id %d missing or repeated", p.Title, p.ID)
		}
		ids[p.ID] = true
		if p.GridPos == nil || p.GridPos.W == 0 || p.GridPos.H == 0 {
			t.Errorf("panel %q has no grid position", p.Title)
		}
		if p.Type != "row" && (p.Datasource == nil || p.Datasource.UID != "${datasource}" || len(p.Targets) == 0) {
			t.Errorf("panel %q: datasource %v, %d targets; want ${datasource} and a query", p.Title, p.Datasource, len(p.Targets))
		}
	}
}

// TestDashboardPromQL runs every query through promtool's PromQL parser,
// as recording rules, with Grafana's variables replaced by values.
func TestDashboardPromQL(t *testing.T) {
	promtool, err := exec.LookPath("promtool")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("promtool not installed (CI=true): %v", err)
		}
		t.Skipf("promtool not installed: %v", err)
	}
	r := strings.NewReplacer("$__rate_interval", "5m", "$job", ".*", "$instance", ".*")
	var b strings.Builder
	b.WriteString("groups:\n  - name: dashboard\n    rules:\n")
	for i, q := range queries(t, load(t)) {
		expr, _ := json.Marshal(r.Replace(q))
		fmt.Fprintf(&b, "      - record: dashboard:query%d\n        expr: %s\n", i, expr)
	}
	path := filepath.Join(t.TempDir(), "dashboard-rules.yml")
	if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(promtool, "check", "rules", path).CombinedOutput(); err != nil {
		t.Errorf("promtool check rules: %v\n%s\n%s", err, out, b.String())
	}
}
