// Package adminclient is the one HTTP client vitals' commands use to read a
// vitals admin server: `vitals doctor`, `vitals stacks URL` and anything new
// that fetches from an admin port. It holds the credentials (a bearer token
// or basic auth, the token defaulting to $VITALS_ADMIN_TOKEN), sends them
// only to the origin (scheme, host and port) they were given for, waits out
// one bounded 429 Retry-After, and treats any answer but 200 as an error
// whose remote text is bounded and made safe to print.
//
// Cost: one HTTP request per Get (two after a 429), no connection kept idle.
package adminclient

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// TokenEnv is the variable a bearer token is read from when none is given;
// the admin server reads the same one (admin.TokenEnv).
const TokenEnv = "VITALS_ADMIN_TOKEN"

// Credentials authenticate to an admin server. The zero value sends none.
type Credentials struct {
	Token          string
	User, Password string
	Basic          bool
}

// Empty reports whether c sends nothing.
func (c Credentials) Empty() bool { return c.Token == "" && !c.Basic }

// FromFlags builds credentials from a --token and a --user user:password
// flag. An empty token falls back to getenv(TokenEnv) (os.Getenv when getenv
// is nil); surrounding whitespace is trimmed from the token, as the server
// trims the one it receives.
func FromFlags(token, user string, getenv func(string) string) (Credentials, error) {
	if getenv == nil {
		getenv = os.Getenv
	}
	var c Credentials
	c.Token = strings.TrimSpace(token)
	if c.Token == "" {
		c.Token = strings.TrimSpace(getenv(TokenEnv))
	}
	if user != "" {
		u, p, ok := strings.Cut(user, ":")
		if !ok {
			return Credentials{}, errors.New("--user wants user:password")
		}
		c.User, c.Password, c.Basic = u, p, true
	}
	return c, nil
}

// Defaults of [Client].
const (
	// MaxRedirects is how many redirects a client that follows them takes.
	MaxRedirects = 5
	// MaxRetryAfter bounds the one wait after a 429: a longer Retry-After
	// is an error at once.
	MaxRetryAfter = 10 * time.Second
	// MaxEcho is how many characters of a remote string are printed.
	MaxEcho = 200
)

// Client fetches from admin servers with one set of credentials.
type Client struct {
	creds  Credentials
	hc     *http.Client
	follow bool
	// sleep waits d or until ctx is done (tests shorten it).
	sleep func(ctx context.Context, d time.Duration) error
	// maxRetryAfter bounds the wait after a 429.
	maxRetryAfter time.Duration
}

// Option configures a [Client].
type Option interface{ apply(*Client) }

type optionFunc func(*Client)

func (f optionFunc) apply(c *Client) { f(c) }

// FollowRedirects makes the client follow up to [MaxRedirects] redirects;
// credentials are dropped for good at the first hop to another origin. By
// default a redirect is returned as an error (a login page behind a redirect
// is not the endpoint).
func FollowRedirects() Option { return optionFunc(func(c *Client) { c.follow = true }) }

// WithHTTPClient makes requests through hc's transport, jar and timeout;
// its CheckRedirect is replaced by this package's.
func WithHTTPClient(hc *http.Client) Option {
	return optionFunc(func(c *Client) {
		if hc != nil {
			cp := *hc
			c.hc = &cp
		}
	})
}

// WithMaxRetryAfter bounds the wait after a 429 (default [MaxRetryAfter]);
// 0 or less never waits.
func WithMaxRetryAfter(d time.Duration) Option {
	return optionFunc(func(c *Client) { c.maxRetryAfter = d })
}

// New returns a client that sends creds.
func New(creds Credentials, opts ...Option) *Client {
	c := &Client{creds: creds, maxRetryAfter: MaxRetryAfter, sleep: sleepCtx}
	for _, o := range opts {
		if o != nil {
			o.apply(c)
		}
	}
	if c.hc == nil {
		tr := http.DefaultTransport.(*http.Transport).Clone()
		// A handful of requests per target: no idle connections (and their
		// goroutines) left behind.
		tr.DisableKeepAlives = true
		c.hc = &http.Client{Transport: tr}
	}
	c.hc.CheckRedirect = c.checkRedirect
	return c
}

// Credentials returns what the client sends.
func (c *Client) Credentials() Credentials { return c.creds }

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// origin is scheme://host:port with the default port made explicit.
func origin(u *url.URL) string {
	port := u.Port()
	if port == "" {
		switch strings.ToLower(u.Scheme) {
		case "https":
			port = "443"
		default:
			port = "80"
		}
	}
	return strings.ToLower(u.Scheme) + "://" + strings.ToLower(u.Hostname()) + ":" + port
}

func (c *Client) checkRedirect(req *http.Request, via []*http.Request) error {
	if !c.follow {
		return http.ErrUseLastResponse
	}
	if len(via) >= MaxRedirects {
		return fmt.Errorf("stopped after %d redirects", MaxRedirects)
	}
	// Net/http keeps Authorization on a redirect to another port of the
	// same host; credentials belong to one origin, so any hop away from it
	// drops them for the rest of the chain.
	first := origin(via[0].URL)
	for _, r := range append(via[1:], req) {
		if origin(r.URL) != first {
			for _, h := range []string{"Authorization", "Proxy-Authorization", "Cookie"} {
				req.Header.Del(h)
			}
			break
		}
	}
	return nil
}

// StatusError is a non-200 answer.
type StatusError struct {
	// URL is the redacted URL asked for.
	URL  string
	Code int
	// Body is the start of the answer, cleaned with [Clean].
	Body string
	// RetryAfter is the server's Retry-After on a 429 that was not waited
	// out; 0 otherwise.
	RetryAfter time.Duration
}

func (e *StatusError) Error() string {
	msg := fmt.Sprintf("GET %s: %d %s", e.URL, e.Code, http.StatusText(e.Code))
	if e.Body != "" {
		msg += ": " + e.Body
	}
	if e.RetryAfter > 0 {
		msg += fmt.Sprintf(" (retry after %v)", e.RetryAfter)
	}
	return msg
}

// Get fetches rawURL, with the credentials when auth is true, and returns
// the response of a 200 answer; the caller closes its body. Any other status
// is a *[StatusError] (the body read, bounded and closed). A 429 with a
// Retry-After of at most the bound is waited out once (cancelled with ctx).
func (c *Client) Get(ctx context.Context, rawURL string, auth bool) (*http.Response, error) {
	resp, err := c.Do(ctx, rawURL, auth, nil)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode == http.StatusTooManyRequests {
		d, ok := retryAfter(resp.Header.Get("Retry-After"))
		if ok && d <= c.maxRetryAfter {
			drain(resp)
			if err := c.sleep(ctx, d); err != nil {
				return nil, fmt.Errorf("GET %s: waiting %v after 429: %w", Redact(rawURL), d, err)
			}
			if resp, err = c.Do(ctx, rawURL, auth, nil); err != nil {
				return nil, err
			}
		}
	}
	if resp.StatusCode != http.StatusOK {
		return nil, statusError(rawURL, resp)
	}
	return resp, nil
}

func statusError(rawURL string, resp *http.Response) error {
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 4*MaxEcho))
	drain(resp)
	e := &StatusError{URL: Redact(rawURL), Code: resp.StatusCode, Body: Clean(strings.TrimSpace(string(b)))}
	if resp.StatusCode == http.StatusTooManyRequests {
		e.RetryAfter, _ = retryAfter(resp.Header.Get("Retry-After"))
	}
	if resp.StatusCode >= 300 && resp.StatusCode < 400 {
		if loc := resp.Header.Get("Location"); loc != "" {
			e.Body = "redirected to " + Clean(Redact(loc))
		}
	}
	return e
}

func drain(resp *http.Response) {
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
}

// Do sends one GET of rawURL, with the credentials when auth is true and
// the extra header (may be nil), and returns the response whatever its
// status (no 429 wait); the caller closes its body. Errors name the
// redacted URL.
func (c *Client) Do(ctx context.Context, rawURL string, auth bool, header http.Header) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, rawURL, nil)
	if err != nil {
		return nil, fmt.Errorf("GET %s: %w", Redact(rawURL), err)
	}
	for k, v := range header {
		req.Header[k] = v
	}
	req.Header.Set("User-Agent", "vitals")
	if auth {
		switch {
		case c.creds.Token != "":
			req.Header.Set("Authorization", "Bearer "+c.creds.Token)
		case c.creds.Basic:
			req.SetBasicAuth(c.creds.User, c.creds.Password)
		}
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) {
			return nil, fmt.Errorf("GET %s: no answer within the timeout", Redact(rawURL))
		}
		// *url.Error already replaces a password in its URL with ***.
		return nil, err
	}
	return resp, nil
}

// retryAfter reads a Retry-After of delay-seconds or an HTTP date.
func retryAfter(v string) (time.Duration, bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, false
	}
	if n, err := strconv.Atoi(v); err == nil {
		if n < 0 {
			return 0, false
		}
		return time.Duration(min(n, 1<<20)) * time.Second, true
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(time.Until(t), 0), true
	}
	return 0, false
}

var userinfo = regexp.MustCompile(`//[^/@]*@`)

// Redact returns rawURL with any password replaced by "xxxxx" (as
// [url.URL.Redacted] does); a URL that does not parse loses its whole
// user-info part.
func Redact(rawURL string) string {
	u, err := url.Parse(rawURL)
	if err != nil {
		return userinfo.ReplaceAllString(rawURL, "//xxxxx@")
	}
	return u.Redacted()
}

// Clean makes a remote string safe and short to print: control characters
// (ESC, BEL, NUL, C1 controls, DEL, and line breaks) and invalid UTF-8 are
// written as Go escapes (\x1b, \n, \u009b), bidi and other format characters
// too, and the result is cut at [MaxEcho] characters with "…".
func Clean(s string) string { return CleanN(s, MaxEcho) }

// CleanN is [Clean] with a bound of n characters (n ≤ 0: no bound).
func CleanN(s string, n int) string {
	var b strings.Builder
	count := 0
	for i := 0; i < len(s); {
		if n > 0 && count >= n {
			b.WriteString("…")
			break
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case r == '\t':
			b.WriteByte(' ')
		case r < 0x20 || r == 0x7f:
			switch r {
			case '\n':
				b.WriteString(`\n`)
			case '\r':
				b.WriteString(`\r`)
			default:
				fmt.Fprintf(&b, `\x%02x`, r)
			}
		case (r >= 0x80 && r < 0xa0) || unicode.Is(unicode.Cf, r):
			fmt.Fprintf(&b, `\u%04x`, r)
		default:
			b.WriteString(s[i : i+size])
		}
		i += size
		count++
	}
	return b.String()
}
