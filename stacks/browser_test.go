package stacks

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/govitals/vitals/internal/browsertest"
)

// TestHTMLInBrowser opens the page WriteHTML writes in headless Chromium
// and uses it: typing in the search box hides the groups that do not
// match, and clicking a closed group opens it.
func TestHTMLInBrowser(t *testing.T) {
	browsertest.Chromium(t) // skip (or fail under CI=true) before building the page
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
	bctx, bcancel := browsertest.New(ctx, t)
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
