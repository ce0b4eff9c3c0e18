// Package prometheus ships vitals' Prometheus alerting rules
// (vitals-rules.yml, next to this file) and their promtool unit tests. Rules
// is the same file embedded, for programs that install it themselves.
//
// The rules alert on CPU throttling above 10% of CFS periods for 10 minutes,
// GOMAXPROCS above the CPU limit, Go memory above 95% of GOMEMLIMIT for 5
// minutes, GC CPU above 25%, a suspected goroutine leak and start-up
// checklist drift, over the metrics of
// [github.com/govitals/vitals/metrics/promexport].
package prometheus

import _ "embed"

// Rules is the content of vitals-rules.yml, a Prometheus rule file.
//
//go:embed vitals-rules.yml
var Rules []byte
