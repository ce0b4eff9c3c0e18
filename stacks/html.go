package stacks

import (
	_ "embed"
	"html/template"
	"io"
	"strings"
)

//go:embed stacks.html.tmpl
var htmlSource string

var htmlTmpl = template.Must(template.New("stacks").Parse(htmlSource))

type htmlFrame struct {
	Call, Loc string
	Dim       bool
}

type htmlGroup struct {
	Count  int
	State  string
	IDs    string
	Labels string
	Top    string
	Frames []htmlFrame
	Open   bool
}

type htmlPage struct {
	Title      string
	Goroutines int
	Groups     []htmlGroup
	Problems   []string
}

// WriteHTML writes groups as one self-contained HTML page: no network
// access (styles and script are inline), one collapsible section per group,
// largest first, and a search box that filters groups by any text in them.
// With [WithStats], a warning box lists what the parse could not read.
// Every string is HTML-escaped. Cost: one pass; the page is about 300
// bytes plus 100 bytes per frame.
func WriteHTML(w io.Writer, groups []*Group, opts ...RenderOption) error {
	c := newRenderConfig(opts)
	pt := newPathTrimmer(groups)
	page := htmlPage{Title: c.title}
	if c.stats != nil {
		page.Problems = c.stats.Problems()
	}
	for i, g := range groups {
		page.Goroutines += g.Count
		calls, locs := frameLines(g, pt, c.fullPath)
		hg := htmlGroup{Count: g.Count, State: stateText(g), IDs: idsText(g), Open: i < 3}
		if len(g.Labels) > 0 {
			hg.Labels = headerLabels(g.Labels, false)
		}
		for j := range calls {
			dim := strings.HasPrefix(calls[j], "created by ") || strings.HasPrefix(calls[j], "…")
			hg.Frames = append(hg.Frames, htmlFrame{Call: calls[j], Loc: locs[j], Dim: dim})
		}
		if len(g.Frames) > 0 {
			hg.Top = termSafe(g.Frames[0].Func)
		}
		page.Groups = append(page.Groups, hg)
	}
	return htmlTmpl.Execute(w, page)
}
