package admin

import (
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// The browser is the one client that can be turned against a loopback
// server: a page the operator visits can send requests to 127.0.0.1, and
// with DNS rebinding (a name of the attacker's that resolves first to the
// attacker, then to 127.0.0.1) it can also read the answers, since to the
// browser they come from the attacker's own origin. Two checks close this:
//
//   - hostAllowed: a server without credentials answers only requests whose
//     Host is an IP literal it may be reached at, "localhost", or a name the
//     operator configured (WithAllowedHosts). A rebinding page always sends
//     its own name. Answer: 421 Misdirected Request.
//   - crossSite: on every server, a request from another site's page
//     (Sec-Fetch-Site, or Origin when a browser sends no Sec-Fetch-Site) is
//     refused on expensive routes and any method other than GET, HEAD or
//     OPTIONS, so a page cannot start CPU profiles, traces, forced GCs or
//     snapshots, or POST to the symbol route with cached credentials.
//     Answer: 403. Requests without those headers (curl, go tool pprof,
//     Prometheus) are not browsers' and pass.

// hostAllowed reports whether the Host of r names this server in a way a
// rebinding page cannot: an IP literal (loopback only when loopbackOnly),
// "localhost" (with or without the root dot), or one of names.
func hostAllowed(r *http.Request, names map[string]bool, loopbackOnly bool) bool {
	if names["*"] {
		return true
	}
	h := r.Host
	if h == "" {
		return false
	}
	if host, _, err := net.SplitHostPort(h); err == nil {
		h = host
	} else if strings.Contains(h, ":") && !strings.HasPrefix(h, "[") {
		return false // "a:b:c" without brackets is no host name
	}
	h = strings.TrimSuffix(strings.TrimPrefix(h, "["), "]")
	h = strings.ToLower(h)
	if ip := net.ParseIP(h); ip != nil {
		return !loopbackOnly || ip.IsLoopback()
	}
	h = strings.TrimSuffix(h, ".")
	return h == "localhost" || names[h]
}

// crossSite reports whether r comes from a page of another origin, by the
// same rules as net/http's CrossOriginProtection: Sec-Fetch-Site other than
// same-origin or none, or, without it, an Origin whose host is not Host.
func crossSite(r *http.Request) bool {
	switch r.Header.Get("Sec-Fetch-Site") {
	case "same-origin", "none":
		return false
	case "":
	default:
		return true
	}
	o := r.Header.Get("Origin")
	if o == "" {
		return false
	}
	u, err := url.Parse(o)
	return err != nil || u.Host != r.Host
}

// guarded reports whether r asks for work that costs the application or
// changes state: what a cross-site page must not start.
func guarded(r *http.Request) bool {
	switch r.Method {
	case http.MethodGet, http.MethodHead, http.MethodOptions:
	default:
		return true
	}
	// An event stream (the dashboard's) holds a connection and a place
	// among the capped streams for as long as the page lives.
	if strings.Contains(r.Header.Get("Accept"), "text/event-stream") {
		return true
	}
	p := r.URL.Path
	switch p {
	case "/debug/pprof/profile", "/debug/pprof/trace", "/debug/vitals/trace",
		"/debug/vitals/flight", "/debug/vitals/goroutines", "/debug/pprof/goroutineleak":
		return true
	}
	if strings.HasPrefix(p, "/debug/pprof/") {
		q := r.URL.Query()
		if q.Get("seconds") != "" || (q.Get("gc") != "" && q.Get("gc") != "0") {
			return true
		}
		if d, _ := strconv.Atoi(q.Get("debug")); d >= 2 {
			return true
		}
	}
	return false
}

// hostCheck wraps next in the Host check of an unauthenticated server. An
// IP literal must be a loopback one when the connection arrived on a
// loopback address; on another address (WithInsecure) any IP literal will
// do, since a rebinding page never sends one.
func hostCheck(names map[string]bool, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		loopbackOnly := true
		if a, ok := r.Context().Value(http.LocalAddrContextKey).(net.Addr); ok {
			if ta, ok := a.(*net.TCPAddr); ok && !ta.IP.IsLoopback() {
				loopbackOnly = false
			}
		}
		if !hostAllowed(r, names, loopbackOnly) {
			httpError(w, http.StatusMisdirectedRequest, "admin: this server answers only to a loopback address, localhost, "+
				"or a name configured with admin.WithAllowedHosts (DNS rebinding protection)")
			return
		}
		next.ServeHTTP(w, r)
	})
}

// originCheck wraps next in the cross-site check.
func originCheck(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if guarded(r) && crossSite(r) {
			httpError(w, http.StatusForbidden, "admin: cross-site browser request refused on a route that costs the application or changes state; open the URL directly")
			return
		}
		next.ServeHTTP(w, r)
	})
}
