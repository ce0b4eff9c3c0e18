// Package pprofexpose defines an Analyzer that reports programs serving the
// debug handlers of net/http/pprof or expvar on a non-loopback address.
//
// # Analyzer pprofexpose
//
// pprofexpose: report /debug/pprof and /debug/vars served beyond loopback
//
// Importing net/http/pprof or expvar, even blank or under another name,
// registers handlers on http.DefaultServeMux from the package's init: heap,
// goroutine and CPU profiles under /debug/pprof/, the command line and
// memory statistics under /debug/vars. They leak source paths and secrets in
// arguments, and a profile request costs the service CPU for its duration.
//
// The analyzer follows imports transitively through an analysis fact
// ([RegistersDebugHandlers]), so a package that imports a helper that imports
// net/http/pprof counts too. In such a package it reports every place that
// serves http.DefaultServeMux: http.ListenAndServe(addr, nil),
// http.ListenAndServeTLS(addr, cert, key, nil), http.Serve(l, nil),
// http.ServeTLS(l, nil, cert, key) (also with http.DefaultServeMux in place
// of nil), and an http.Server literal whose Handler is unset or nil, unless
// the address is provably loopback: a constant "127.0.0.1:port",
// "localhost:port" or "[::1]:port", or, for Serve, a listener the function
// made with net.Listen on such a constant. ":8080" listens on every
// interface, and an address that is not a constant is not provably anything.
//
// # Compared with gosec G108
//
// gosec's G108 reports every blank import of net/http/pprof, at the import,
// whatever the program then serves. It therefore also fires for a program
// that serves pprof only on loopback or only on its own mux, or that never
// serves HTTP at all; and it misses a named or plain import
// (import "net/http/pprof" to mount pprof.Index on an admin mux still runs
// the init that registers on http.DefaultServeMux), expvar, and an import
// through a helper package. pprofexpose reports where the exposure happens,
// the serve call, only when the debug handlers are linked in and the address
// is not provably loopback. It cannot see a DefaultServeMux handed to a
// server through a variable, a field or a third-party framework, which G108's
// blunter rule still catches at the import.
//
// The remedy is to serve the application on its own *http.ServeMux and the
// debug handlers on a loopback admin port (or behind authentication).
// A //vitals:ignore pprofexpose <reason> comment suppresses a report.
// There is no suggested fix.
package pprofexpose
