// Package admin is an authenticated admin HTTP server on its own port: pprof,
// Prometheus metrics, health, the vitals report, grouped goroutines, bounded
// execution traces and flight-recorder snapshots.
//
// Profiling endpoints leak source paths, heap contents and stacks, and some
// of them are expensive: a CPU profile runs for its whole duration, a full
// goroutine dump stops the world for roughly 50 ms per 10,000 goroutines, a
// trace writes megabytes a second. The blank import of net/http/pprof puts
// all of them on [http.DefaultServeMux], often the mux of the public server
// (CVE-2019-11248). This package never touches DefaultServeMux and does not
// import net/http/pprof: its pprof routes are written on runtime/pprof and
// runtime/trace and serve what go tool pprof and go tool trace read.
//
// # Safety
//
//   - It listens on 127.0.0.1:6060 by default. A non-loopback address needs
//     a bearer token ([WithBearerToken] or $VITALS_ADMIN_TOKEN), basic auth
//     ([WithBasicAuth]) or your own middleware ([WithMiddleware]); [New]
//     refuses otherwise, unless [WithInsecure]. Loopback is decided on the
//     address the listener really bound ([Server.Start] refuses "localhost"
//     that a hosts file maps elsewhere), not on the name.
//   - With authentication, every path (even unknown ones) answers 401 and a
//     fixed body to a caller without credentials; credentials are compared in
//     constant time. Whitespace around a token is trimmed; a token no client
//     could send (whitespace inside) is refused by New.
//   - /healthz answers GET and HEAD without credentials with "ok" and nothing
//     else, so a liveness probe needs none; [WithHealthzAuth] keeps it behind
//     authentication. There is no readiness route: whether the application
//     is ready is for its own port to say, not the admin server's.
//   - Without credentials, the server answers only requests whose Host is
//     "localhost", an IP literal (a loopback one on a loopback connection) or
//     a name given to [WithAllowedHosts]; others get 421. A web page the
//     operator visits cannot read heap or stacks through DNS rebinding.
//   - A request from another site's page (Sec-Fetch-Site, or Origin in older
//     browsers; the rules of net/http's CrossOriginProtection) gets 403 on
//     every expensive request and every method but GET, HEAD and OPTIONS,
//     credentials or not: a page cannot start profiles, traces, forced GCs or
//     snapshots. curl, go tool pprof and Prometheus send no such headers.
//   - Expensive requests (CPU profile, traces, goroutine?debug=2 and the
//     grouped goroutine page above 1,000 goroutines, heap?gc=1,
//     goroutineleak, delta profiles, flight snapshots) run one at a time,
//     whatever their kind, start at least 2 s apart and 2 s after the
//     previous one ended ([WithExpensiveInterval]), so a flood of one-second
//     profiles and traces keeps the process profiled a third of the time. A request that finds the slot taken waits its
//     turn, up to 10 s with at most 4 others ([WithExpensiveWait]), and stops
//     waiting when its client goes away; only then, or when the running
//     request is expected to outlast the wait (a 30 s CPU profile), does it
//     get 429 with Retry-After. An operator's back-to-back requests are
//     served; a flood costs the application one request at a time. Durations
//     are capped ([WithMaxDuration], 30 s). Full goroutine dumps are refused
//     above a goroutine budget ([WithGoroutineBudget], 10,000) unless force=1.
//     Work stops when the client goes away or the server shuts down.
//   - Every other profile (heap, allocs, block, mutex, threadcreate,
//     goroutine with debug=0 or 1, a full dump of up to 1,000 goroutines) and
//     symbol lookups share one profile budget ([WithProfileBudget]): one write
//     at a time, into a buffer, on a thread at the lowest CPU priority, and
//     on average at most 100 ms of CPU per second, all routes together, each
//     write charged at least 10 ms (so at most ten a second), and at most a
//     hundredth of the heap goal per second of allocation (at least
//     256 KiB, with 16 MiB saved up for an operator's round of profiles),
//     because a write's garbage brings the next collection forward and a
//     collection among many goroutines is what costs the application its
//     tail latency; at most 8 requests in the class at once. /metrics has a
//     budget of its own, so a flood of profiles never fails a scrape. Past a
//     budget the answer is 429 with Retry-After.
//   - A profile's answer is shared ([WithProfileReuse]): requests for the
//     same profile and debug level while it is written wait for that write,
//     and later ones get the same answer for as long as the budget takes to
//     earn its cost back (at most 30 s), with Age and X-Vitals-Written
//     headers. Goroutine dumps above 1,000 goroutines, in the expensive slot,
//     are shared the same way. A request with Cache-Control: no-cache gets a
//     new write (within the budget). An operator's repeated requests are
//     answered at once for the cost of one write.
//   - The profile class's answers, written or shared, are paced
//     ([WithProfileAnswers]): at most 10 a second on average, 10 at once;
//     past that a request waits its turn (up to 10 s, in order), and past
//     8 waiting it gets 429. An operator never meets the pace; a flood of
//     identical requests, each cheap to answer from a shared write, no
//     longer gets hundreds of answers a second.
//   - heap?gc=1 (and allocs?gc=1) forces a GC only when no cycle completed
//     in the last second: the heap profile is as of the last completed
//     cycle, so a recent one serves as well. Forced GCs are limited to one
//     per 30 s per server ([WithForcedGCInterval]); inside that interval the
//     request gets 429 with Retry-After. The X-Vitals-GC response header says
//     "forced", "skipped: last cycle 420ms ago" or "refused: ...".
//   - ?seconds= must be a finite number of at least 0.001; larger than the
//     cap it is capped (X-Vitals-Duration-Capped: 1). Symbol lookups take at
//     most 1 MiB of body and 65,536 distinct addresses and answer at most
//     8 MiB; past a limit the answer is 413.
//   - /debug/pprof/cmdline is off unless [WithCmdline]: flags carry secrets.
//
// SECURITY.md at the root of the module has the threat model.
//
// # Routes
//
//	/debug/pprof/               index of every runtime profile (goroutineleak when present)
//	/debug/pprof/{name}         heap, allocs, goroutine, block, mutex, threadcreate, ...; ?debug=N, ?gc=1, ?seconds=N (delta)
//	/debug/pprof/profile        CPU profile, ?seconds=N (default 30)
//	/debug/pprof/trace          execution trace, ?seconds=N (default 1)
//	/debug/pprof/symbol         symbol lookup for go tool pprof
//	/metrics                    Prometheus text/OpenMetrics ([WithGatherer])
//	/healthz                    "ok", no work; no credentials needed (GET, HEAD) unless WithHealthzAuth
//	/debug/vitals               JSON: start-up report ([WithReport]), live state ([WithState]), routes
//	/debug/vitals/goroutines    goroutines grouped by stack; ?format=text|json|html or Accept
//	/debug/vitals/trace         bounded trace, ?seconds=N (default 5); ?save=1 keeps it in [WithTraceDir]
//	/debug/vitals/flight        flight-recorder snapshot ([WithFlightRecorder]), rate-limited; ?reason=
//
// More routes, such as the vitals dashboard at /debug/vitals/, are mounted
// behind the same authentication with [WithHandler] or [Server.Handle].
//
// # Usage examples
//
// On loopback, for a service whose operators ssh in or port-forward:
//
//	srv, err := admin.New()
//	if err != nil { ... }
//	if err := srv.Start(); err != nil {
//		log.Printf("admin server disabled: %v", err) // the service carries on
//	}
//	defer srv.Close()
//
// Reachable from the cluster, with basic auth so go tool pprof works:
//
//	srv, err := admin.New(
//		admin.WithAddr(":6060"),
//		admin.WithBasicAuth("ops", os.Getenv("ADMIN_PASSWORD")),
//	)
//
//	go tool pprof -top http://ops:$ADMIN_PASSWORD@host:6060/debug/pprof/heap
//	go tool pprof http://ops:$ADMIN_PASSWORD@host:6060/debug/pprof/profile?seconds=10
//	curl -u ops:$ADMIN_PASSWORD -o trace.out 'http://host:6060/debug/vitals/trace?seconds=5'
//	curl -H "Authorization: Bearer $VITALS_ADMIN_TOKEN" host:6060/debug/vitals/goroutines
//
// In tests of your public handler, [github.com/govitals/vitals/admin/admintest]
// asserts that it serves no /debug/pprof/ or /debug/vars.
package admin
