// Package browsertest starts headless Chromium for vitals' end-to-end
// tests of the pages it serves (the dashboard, the grouped-goroutines HTML),
// with the flags this environment needs. Tests only.
package browsertest

import (
	"context"
	"os"
	"os/exec"
	"testing"

	"github.com/chromedp/chromedp"
)

// Chromium returns the path of a Chromium binary. Without one the test is
// skipped, except under CI=true, where it fails: scripts/test.sh installs
// the Debian package chromium.
func Chromium(t testing.TB) string {
	t.Helper()
	for _, name := range []string{"/usr/bin/chromium", "chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("chromium not found (CI=true: scripts/test.sh installs the Debian package chromium)")
	}
	t.Skip("chromium not found")
	return ""
}

// New starts a headless Chromium (found by [Chromium]) with a fresh profile
// and returns a chromedp context for it; cancel stops the browser. The
// flags keep it off the network (no background networking, component
// updates or sync) and runnable as root in a container (no sandbox, no
// /dev/shm). extra adds options such as chromedp.WindowSize.
func New(ctx context.Context, t testing.TB, extra ...chromedp.ExecAllocatorOption) (context.Context, context.CancelFunc) {
	t.Helper()
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(Chromium(t)),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.UserDataDir(t.TempDir()),
	}
	actx, acancel := chromedp.NewExecAllocator(ctx, append(opts, extra...)...)
	bctx, bcancel := chromedp.NewContext(actx)
	return bctx, func() { bcancel(); acancel() }
}
