package stacks

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestHTMLInBrowser opens the page WriteHTML writes in headless Chromium
// and uses it: typing in the search box hides the groups that do not
// match, and clicking a closed group opens it.
func TestHTMLInBrowser(t *testing.T) {
	chrome := ""
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			chrome = p
			break
		}
	}
	if chrome == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("chromium not found (CI=true: scripts/test.sh installs it)")
		}
		t.Skip("chromium not found")
	}
	groups := GroupBy(parseFile(t, "pprof_debug2.txt").Goroutines)
	wantMatch := 0
	for _, g := range groups {
		var sb strings.Builder
		WriteText(&sb, []*Group{g})
		if strings.Contains(strings.ToLower(sb.String()), "mutex") {
			wantMatch++
		}
	}
	if wantMatch == 0 || wantMatch == len(groups) {
		t.Fatalf("fixture gives %d of %d groups matching: useless filter test", wantMatch, len(groups))
	}
	page := filepath.Join(t.TempDir(), "stacks.html")
	f, err := os.Create(page)
	if err != nil {
		t.Fatal(err)
	}
	if err := WriteHTML(f, groups); err != nil {
		t.Fatal(err)
	}
	f.Close()

	ctx, cancel := context.WithTimeout(context.Background(), 40*time.Second)
	defer cancel()
	actx, acancel := chromedp.NewExecAllocator(ctx,
		chromedp.ExecPath(chrome),
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
	)
	defer acancel()
	bctx, bcancel := chromedp.NewContext(actx)
	defer bcancel()

	err = chromedp.Do(bctx,
		chromedp.Navigate("file://"+page),
		chromedp.WaitReady("#q"),
	)
	if err != nil {
		t.Fatal(err)
	}
	total, err := chromedp.Run(bctx, chromedp.Evaluate[int](`document.querySelectorAll("details.g").length`))
	if err != nil {
		t.Fatal(err)
	}
	// Type into the search box the way the page sees it: value, then an
	// input event.
	visible, err := chromedp.Run(bctx, chromedp.Evaluate[int](`(() => {
		const q = document.getElementById("q");
		q.value = "mutex";
		q.dispatchEvent(new Event("input"));
		return document.querySelectorAll("details.g:not(.hidden)").length;
	})()`))
	if err != nil {
		t.Fatal(err)
	}
	if total != len(groups) || visible != wantMatch {
		t.Errorf("page shows %d of %d groups after typing \"mutex\", want %d of %d", visible, total, wantMatch, len(groups))
	}
	opened, err := chromedp.Run(bctx, chromedp.Evaluate[bool](`(() => {
		const gs = document.querySelectorAll("details.g");
		const last = gs[gs.length - 1];
		if (last.open) return false;
		last.querySelector("summary").click();
		return last.open;
	})()`))
	if err != nil {
		t.Fatal(err)
	}
	if !opened {
		t.Error("clicking the last group's summary did not open it")
	}
}
