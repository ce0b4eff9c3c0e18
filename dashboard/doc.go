// Package dashboard is a live runtime dashboard for the admin server: one
// HTML page with uPlot charts of the heap against its goal, GOMEMLIMIT and
// the container's memory limit; GC pauses and GC CPU; goroutines against
// the leak watchdog's baseline; GOMAXPROCS against the CPU limit; CFS
// throttling; scheduler latency; and the allocation rate. A header shows
// the start-up report and links to the admin server's goroutine page, heap
// profile, trace and flight-recorder snapshot. With [WithIncidents], every
// chart marks recent incidents (a labelled vertical line at the time of
// each diagnostic bundle) and the header lists them.
//
// # Serving
//
// A [Dashboard] is an [http.Handler] meant to be mounted at /debug/vitals/
// of package admin, behind its authentication:
//
//	d, err := dashboard.New(dashboard.WithReport(report))
//	if err != nil { ... }
//	defer d.Close()
//	srv, err := admin.New(admin.WithBasicAuth(user, pass), admin.WithHandler("/debug/vitals/", d))
//
// vitals.Start does this for you. Everything the page needs (HTML, CSS,
// JavaScript and uPlot 1.6.32, MIT licence, vendored under web/uplot with a
// Makefile target that refreshes it) is embedded with go:embed: no CDN, it
// works on an air-gapped host. The page's links are relative to it
// ("goroutines", "../pprof/heap", "trace?seconds=5", "flight"), so they
// point at the admin routes when the dashboard is mounted at /debug/vitals/.
//
// # What it costs
//
// Nothing while nobody looks: no goroutine, no open file. The first page
// that connects (a server-sent event stream at "events") starts one sampling
// goroutine that reads runtime/metrics and the cgroup counters about once a
// second (a [metrics.Sampler] read, a few microseconds, no stop-the-world)
// and encodes each sample once for all pages; the last page that leaves
// stops it and closes the cgroup files. A sample costs about 13 µs and no
// allocation (BenchmarkSample); each connected page then costs one
// goroutine and a write of about 300 bytes a second, about 15-40 µs of CPU
// per page per second on loopback (BenchmarkFanout).
package dashboard
