package admin

import (
	"crypto/sha256"
	"crypto/subtle"
	"net/http"
	"strings"
)

// authenticator checks the credentials the config asks for.
type authenticator struct {
	token      [32]byte
	hasToken   bool
	user, pass [32]byte
	hasBasic   bool
	challenge  string
}

func newAuthenticator(c *config) *authenticator {
	a := &authenticator{}
	if c.token != "" {
		a.token, a.hasToken = sha256.Sum256([]byte(c.token)), true
	}
	if c.basicSet {
		a.user, a.pass, a.hasBasic = sha256.Sum256([]byte(c.user)), sha256.Sum256([]byte(c.pass)), true
	}
	var ch []string
	if a.hasBasic {
		ch = append(ch, `Basic realm="vitals admin", charset="UTF-8"`)
	}
	if a.hasToken {
		ch = append(ch, `Bearer realm="vitals admin"`)
	}
	a.challenge = strings.Join(ch, ", ")
	return a
}

func (a *authenticator) enabled() bool { return a.hasToken || a.hasBasic }

// ok compares hashes of the given credentials with constant-time
// comparisons, so neither content nor length leaks through timing.
func (a *authenticator) ok(r *http.Request) bool {
	h := r.Header.Get("Authorization")
	if a.hasToken {
		if tok, found := cutPrefixFold(h, "Bearer "); found {
			got := sha256.Sum256([]byte(strings.TrimSpace(tok)))
			if subtle.ConstantTimeCompare(got[:], a.token[:]) == 1 {
				return true
			}
		}
	}
	if a.hasBasic {
		if u, p, found := r.BasicAuth(); found {
			gu, gp := sha256.Sum256([]byte(u)), sha256.Sum256([]byte(p))
			uok := subtle.ConstantTimeCompare(gu[:], a.user[:])
			pok := subtle.ConstantTimeCompare(gp[:], a.pass[:])
			if uok&pok == 1 {
				return true
			}
		}
	}
	return false
}

func cutPrefixFold(s, prefix string) (string, bool) {
	if len(s) < len(prefix) || !strings.EqualFold(s[:len(prefix)], prefix) {
		return "", false
	}
	return s[len(prefix):], true
}

// wrap answers 401 with a fixed body to every request without valid
// credentials, before any routing: an unauthenticated caller cannot tell a
// real route from a missing one.
// With openHealthz, GET and HEAD of exactly /healthz pass without
// credentials (the answer is a constant "ok").
func (a *authenticator) wrap(next http.Handler, openHealthz bool) http.Handler {
	if !a.enabled() {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if openHealthz && r.URL.Path == "/healthz" && (r.Method == http.MethodGet || r.Method == http.MethodHead) {
			next.ServeHTTP(w, r)
			return
		}
		if !a.ok(r) {
			h := w.Header()
			h.Set("WWW-Authenticate", a.challenge)
			h.Set("Content-Type", "text/plain; charset=utf-8")
			h.Set("X-Content-Type-Options", "nosniff")
			h.Set("Cache-Control", "no-store")
			w.WriteHeader(http.StatusUnauthorized)
			_, _ = w.Write([]byte("unauthorized\n"))
			return
		}
		next.ServeHTTP(w, r)
	})
}
