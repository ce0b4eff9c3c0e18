// Package grafana ships a ready Grafana dashboard (vitals-dashboard.json,
// next to this file) over the vitals_* and go_* metrics that a service on
// vitals.Start serves on its admin /metrics: the production checklist
// gauges, GOMAXPROCS against the cgroup CPU limit and throttling,
// scheduling latency, Go memory against GOMEMLIMIT and the container, GC
// cycles, pauses and CPU, goroutines against the leak watchdog's steady
// state, threads, finalizers and mutex wait. Import it in Grafana
// (Dashboards, New, Import) and pick the Prometheus data source; the job
// and instance variables come from vitals_gomaxprocs.
//
// Its tests hold every metric name in its queries to the names vitals
// serves (read from a real service's /metrics on the Go version under
// test) and every query to promtool's PromQL parser. Dashboard is the same
// file embedded, for programs that provision it themselves.
package grafana

import _ "embed"

// Dashboard is the content of vitals-dashboard.json, a Grafana dashboard
// (JSON model, schemaVersion 39).
//
//go:embed vitals-dashboard.json
var Dashboard []byte
