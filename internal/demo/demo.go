// Package demo is `vitals demo`: a small HTTP service built with vitals.Start
// on loopback that loads itself, leaks goroutines on purpose after a while,
// and narrates what vitals sees — the admin and dashboard URLs, the leak
// watchdog's report with the stack group that grew, and a doctor audit of
// itself.
package demo

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/govitals/vitals"
	"github.com/govitals/vitals/admin"
	"github.com/govitals/vitals/doctor"
	"github.com/govitals/vitals/leak"
)

// Config says how long the demo runs and when it leaks.
type Config struct {
	// Duration stops the demo after this long; 0 runs until ctx is done.
	Duration time.Duration
	// LeakAfter is when the leak starts (default 5 s).
	LeakAfter time.Duration
	// LeakRate is how many goroutines leak per second (default 20).
	LeakRate int
	// Once stops the demo as soon as the leak is reported and the doctor
	// audit printed.
	Once bool
	// AdminAddr is the admin server's address (default 127.0.0.1:0, a free
	// loopback port).
	AdminAddr string
	// Color colors the doctor table.
	Color bool
	// Vitals is the command that runs the vitals CLI here, printed in the
	// doctor command line to try (default "vitals"; `vitals demo` passes
	// one that works, e.g. "go run github.com/govitals/vitals/cmd/vitals").
	Vitals string
}

// ErrNotCaught is returned when the demo ended before the watchdog reported
// the leak.
var ErrNotCaught = errors.New("demo: the watchdog did not report the leak before the demo ended")

// Run runs the demo, writing its story to out, until ctx is done, the
// duration ends or (with Once) the leak is reported. Everything listens on
// loopback; everything it started is stopped and the runtime settings are
// restored before it returns. It returns [ErrNotCaught] when the leak was not
// reported in time.
func Run(ctx context.Context, out io.Writer, cfg Config) error {
	if cfg.LeakAfter <= 0 {
		cfg.LeakAfter = 5 * time.Second
	}
	if cfg.LeakRate <= 0 {
		cfg.LeakRate = 20
	}
	if cfg.AdminAddr == "" {
		cfg.AdminAddr = "127.0.0.1:0"
	}
	if cfg.Duration > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, cfg.Duration)
		defer cancel()
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	tok := make([]byte, 16)
	_, _ = rand.Read(tok)
	token := hex.EncodeToString(tok)

	reports := make(chan leak.Report, 1)
	started := time.Now()
	// Short watchdog periods so the demo's leak is caught in seconds; the
	// defaults (10 s samples, 2 min warm-up, 5 min windows) suit services.
	svc, err := vitals.Start(ctx,
		vitals.WithLogger(slog.New(slog.DiscardHandler)),
		// The token as a bearer token for curl and doctor, and as the
		// password of user "demo" for a browser's login prompt.
		vitals.AdminOptions(admin.WithAddr(cfg.AdminAddr), admin.WithBearerToken(token), admin.WithBasicAuth("demo", token)),
		vitals.WatchdogOptions(
			leak.SampleEvery(250*time.Millisecond),
			leak.WarmUp(time.Second),
			leak.WindowSamples(4),
			leak.Slack(10, 0.2),
			leak.SuspectAfter(2),
			leak.DumpAtMostEvery(time.Second),
			leak.OnReport(func(r leak.Report) {
				select {
				case reports <- r:
				default:
				}
			}),
		),
	)
	if err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	defer svc.Close()
	if svc.Admin() == nil || svc.Err() != nil {
		return fmt.Errorf("demo: admin server: %w", svc.Err())
	}
	adminURL := "http://" + svc.Admin().Addr()

	app := newApp()
	defer app.stopLeaks()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return fmt.Errorf("demo: listen: %w", err)
	}
	srv := &http.Server{Handler: app.mux, ReadHeaderTimeout: 5 * time.Second}
	serveDone := make(chan struct{})
	go func() {
		defer close(serveDone)
		_ = srv.Serve(ln)
	}()
	defer func() {
		sctx, scancel := context.WithTimeout(context.Background(), 5*time.Second)
		_ = srv.Shutdown(sctx)
		scancel()
		<-serveDone
	}()
	publicURL := "http://" + ln.Addr().String()

	dash := adminURL + "/debug/vitals/  (browser login: demo / the token)"
	if !hasRoute(svc.Admin(), "/debug/vitals/") {
		dash = adminURL + "/debug/vitals/  (no dashboard mounted in this build)"
	}
	fmt.Fprintf(out, "vitals demo: a service started with vitals.Start, loading itself; it leaks goroutines after %v\n\n", cfg.LeakAfter)
	fmt.Fprintf(out, "  service    %s/\n", publicURL)
	fmt.Fprintf(out, "  admin      %s/debug/vitals\n", adminURL)
	fmt.Fprintf(out, "  token      %s\n", token)
	fmt.Fprintf(out, "  dashboard  %s\n", dash)
	fmt.Fprintf(out, "  try        curl -H 'Authorization: Bearer %s' '%s/debug/vitals/goroutines'\n", token, adminURL)
	self := cfg.Vitals
	if self == "" {
		self = "vitals"
	}
	fmt.Fprintf(out, "             %s doctor --token %s %s --public %s\n\n", self, token, adminURL, publicURL)

	var wg sync.WaitGroup
	loadCtx, stopLoad := context.WithCancel(ctx)
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 8}}
	defer client.CloseIdleConnections()
	defer wg.Wait()
	defer stopLoad()
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			load(loadCtx, client, publicURL+"/work", 10*time.Millisecond)
		}()
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		select {
		case <-loadCtx.Done():
			return
		case <-time.After(cfg.LeakAfter):
		}
		fmt.Fprintf(out, "[%5.1fs] injecting the leak: /subscribe now starts a goroutine that waits for a reply nobody sends (%d a second)\n",
			time.Since(started).Seconds(), cfg.LeakRate)
		load(loadCtx, client, publicURL+"/subscribe", time.Second/time.Duration(cfg.LeakRate))
	}()

	tick := time.NewTicker(250 * time.Millisecond)
	defer tick.Stop()
	baseline := false
	for {
		select {
		case <-ctx.Done():
			fmt.Fprintf(out, "[%5.1fs] stopping\n", time.Since(started).Seconds())
			return ErrNotCaught
		case <-tick.C:
			if st := svc.Watchdog().State(); !baseline && st.Baseline > 0 {
				baseline = true
				fmt.Fprintf(out, "[%5.1fs] watchdog learnt the steady state: %d goroutines (suspects a leak above %d that keeps growing)\n",
					time.Since(started).Seconds(), st.Baseline, st.Threshold)
			}
			continue
		case r := <-reports:
			fmt.Fprintf(out, "[%5.1fs] watchdog caught the leak:\n%s\n\n", time.Since(started).Seconds(), indent(r.String()))
		}
		break
	}

	fmt.Fprintf(out, "[%5.1fs] vitals doctor, run against this service:\n\n", time.Since(started).Seconds())
	audits := doctor.Run(ctx, []doctor.Target{
		{URL: adminURL, Kind: doctor.KindVitals},
		{URL: publicURL, Kind: doctor.KindPublic},
	}, doctor.WithToken(token), doctor.WithTimeout(10*time.Second))
	if err := doctor.WriteText(out, audits, cfg.Color); err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	if cfg.Once {
		return nil
	}
	fmt.Fprintf(out, "\nthe service keeps running (and leaking) until Ctrl-C%s\n", map[bool]string{true: " or the end of --duration", false: ""}[cfg.Duration > 0])
	<-ctx.Done()
	fmt.Fprintf(out, "[%5.1fs] stopping\n", time.Since(started).Seconds())
	return nil
}

func hasRoute(s *admin.Server, pattern string) bool {
	for _, r := range s.Routes() {
		if r.Pattern == pattern {
			return true
		}
	}
	return false
}

func indent(s string) string { return "    " + strings.ReplaceAll(s, "\n", "\n    ") }

// load GETs u every pause until ctx is done.
func load(ctx context.Context, c *http.Client, u string, pause time.Duration) {
	t := time.NewTicker(pause)
	defer t.Stop()
	for {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
		if err != nil {
			return
		}
		if resp, err := c.Do(req); err == nil {
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// app is the demo's public service.
type app struct {
	mux      *http.ServeMux
	shutdown chan struct{} // closed to end the leaked goroutines
	once     sync.Once
	leaked   sync.WaitGroup
}

func newApp() *app {
	a := &app{mux: http.NewServeMux(), shutdown: make(chan struct{})}
	a.mux.HandleFunc("/{$}", func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, "vitals demo service: /work, /subscribe\n")
	})
	a.mux.HandleFunc("/work", a.work)
	a.mux.HandleFunc("/subscribe", a.subscribe)
	return a
}

// work does a little CPU and allocation, like a request would.
func (a *app) work(w http.ResponseWriter, r *http.Request) {
	buf := make([]byte, 16<<10)
	sum := 0
	for i := range buf {
		buf[i] = byte(i * 31)
		sum += int(buf[i])
	}
	fmt.Fprintf(w, "ok %d\n", sum)
}

// subscribe is the bug: it starts a goroutine that waits for a reply on a
// channel nobody will ever send on, and returns.
func (a *app) subscribe(w http.ResponseWriter, r *http.Request) {
	replies := make(chan string)
	a.leaked.Add(1)
	go a.awaitReply(replies)
	_, _ = io.WriteString(w, "subscribed\n")
}

// awaitReply is the leaking goroutine: the watchdog's report names it.
func (a *app) awaitReply(replies <-chan string) {
	defer a.leaked.Done()
	select {
	case <-replies:
	case <-a.shutdown: // only so the demo can clean up after itself
	}
}

func (a *app) stopLeaks() {
	a.once.Do(func() { close(a.shutdown) })
	a.leaked.Wait()
}
