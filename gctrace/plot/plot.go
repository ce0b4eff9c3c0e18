// Package plot draws a [gctrace.Summary] over time with gonum.org/v1/plot:
// the live heap, the heap goal, the heap at each cycle's start and the
// memory limit on top, and the stop-the-world pause of each cycle below,
// forced cycles marked. It lives apart from gctrace so the parser keeps no
// dependencies beyond the standard library.
package plot

import (
	"errors"
	"fmt"
	"image/color"
	"io"
	"strings"

	"github.com/govitals/vitals/gctrace"
	gplot "gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
	"gonum.org/v1/plot/vg/vgsvg"
)

// Format is an output image format.
type Format string

// The supported formats.
const (
	SVG Format = "svg"
	PNG Format = "png"
)

// FormatOf returns the format named by a file name's extension (".svg" or
// ".png", any case), or an error.
func FormatOf(name string) (Format, error) {
	switch {
	case strings.HasSuffix(strings.ToLower(name), ".svg"):
		return SVG, nil
	case strings.HasSuffix(strings.ToLower(name), ".png"):
		return PNG, nil
	}
	return "", fmt.Errorf("gctrace/plot: %s: want a .svg or .png file name", name)
}

// Size of the image: 8×6 inches; PNG at 96 dpi is 768×576 pixels.
const (
	width  = 8 * vg.Inch
	height = 6 * vg.Inch
)

var (
	colLive   = color.RGBA{R: 0x1f, G: 0x77, B: 0xb4, A: 0xff}
	colGoal   = color.RGBA{R: 0xff, G: 0x7f, B: 0x0e, A: 0xff}
	colStart  = color.RGBA{R: 0x99, G: 0x99, B: 0x99, A: 0xff}
	colLimit  = color.RGBA{R: 0xd6, G: 0x27, B: 0x28, A: 0xff}
	colPause  = color.RGBA{R: 0x2c, G: 0xa0, B: 0x2c, A: 0xff}
	colForced = color.RGBA{R: 0xd6, G: 0x27, B: 0x28, A: 0xff}
)

// Write draws s to w in format f. It needs at least one cycle in
// s.Points. Drawing costs a few milliseconds and, for PNG, an 8×6 inch
// RGBA image in memory (about 1.8 MB).
func Write(w io.Writer, s *gctrace.Summary, f Format) error {
	if f != SVG && f != PNG {
		return fmt.Errorf("gctrace/plot: unknown format %q", f)
	}
	if s == nil || len(s.Points) == 0 {
		return errors.New("gctrace/plot: no GC cycles to draw")
	}
	heap, err := heapPlot(s)
	if err != nil {
		return err
	}
	pause, err := pausePlot(s)
	if err != nil {
		return err
	}
	// Both panels share the time axis. With several runs each counts from
	// its own start, so the axis spans them all.
	lo, hi := s.Points[0].At.Seconds(), s.Points[0].At.Seconds()
	for _, pt := range s.Points {
		lo, hi = min(lo, pt.At.Seconds()), max(hi, pt.At.Seconds())
	}
	if hi <= lo {
		hi = lo + 1e-3
	}
	for _, p := range []*gplot.Plot{heap, pause} {
		p.X.Min, p.X.Max = lo, hi
	}

	var canvas vg.CanvasWriterTo
	switch f {
	case SVG:
		canvas = vgsvg.New(width, height)
	case PNG:
		canvas = vgimg.PngCanvas{Canvas: vgimg.New(width, height)}
	}
	dc := draw.New(canvas)
	tiles := draw.Tiles{Rows: 2, Cols: 1, PadX: vg.Millimeter, PadY: 4 * vg.Millimeter,
		PadTop: 2 * vg.Millimeter, PadBottom: 2 * vg.Millimeter, PadLeft: 2 * vg.Millimeter, PadRight: 2 * vg.Millimeter}
	plots := [][]*gplot.Plot{{heap}, {pause}}
	cs := gplot.Align(plots, tiles, dc)
	heap.Draw(cs[0][0])
	pause.Draw(cs[1][0])
	if _, err := canvas.WriteTo(w); err != nil {
		return fmt.Errorf("gctrace/plot: write %s: %w", f, err)
	}
	return nil
}

func mib(b uint64) float64 { return float64(b) / (1 << 20) }

// Runs splits s.Points into its runs (processes, or runs of one program,
// told apart by the gc numbers starting over), in input order. A trace of
// one process is one run.
func Runs(s *gctrace.Summary) [][]gctrace.Point {
	var out [][]gctrace.Point
	for i := 0; i < len(s.Points); {
		j := i + 1
		for j < len(s.Points) && s.Points[j].Run == s.Points[i].Run {
			j++
		}
		out = append(out, s.Points[i:j])
		i = j
	}
	return out
}

func heapPlot(s *gctrace.Summary) (*gplot.Plot, error) {
	p := gplot.New()
	p.Title.Text = fmt.Sprintf("heap: %d GC cycles, GC CPU %d%%", s.Cycles, s.GCCPUPercent)
	if s.Restarts > 0 {
		p.Title.Text = fmt.Sprintf("heap: %d GC cycles in %d runs (one line each)", s.Cycles, s.Restarts+1)
	}
	p.Y.Label.Text = "MiB"
	p.Y.Min = 0
	p.Legend.Top = true
	p.Legend.Left = true
	p.Add(plotter.NewGrid())
	series := []struct {
		name  string
		col   color.Color
		dash  bool
		value func(gctrace.Point) uint64
	}{
		{"heap at cycle start", colStart, false, func(p gctrace.Point) uint64 { return p.HeapStart }},
		{"heap goal", colGoal, true, func(p gctrace.Point) uint64 { return p.HeapGoal }},
		{"live heap", colLive, false, func(p gctrace.Point) uint64 { return p.HeapLive }},
	}
	runs := Runs(s)
	for _, sr := range series {
		// One line per run: joining the last cycle of one process to the
		// first of the next would draw a zigzag that no heap ever made.
		for i, run := range runs {
			xys := make(plotter.XYs, len(run))
			for j, pt := range run {
				xys[j].X, xys[j].Y = pt.At.Seconds(), mib(sr.value(pt))
			}
			l, err := plotter.NewLine(xys)
			if err != nil {
				return nil, fmt.Errorf("gctrace/plot: %s: %w", sr.name, err)
			}
			l.Color = sr.col
			l.Width = vg.Points(1.5)
			if sr.dash {
				l.Dashes = []vg.Length{vg.Points(5), vg.Points(3)}
			}
			p.Add(l)
			if i == 0 {
				p.Legend.Add(sr.name, l)
			}
		}
	}
	// Headroom above the data for the legend.
	top := mib(uint64(s.MemoryLimit))
	for _, pt := range s.Points {
		top = max(top, mib(pt.HeapStart), mib(pt.HeapGoal), mib(pt.HeapLive))
	}
	p.Y.Max = max(top*1.45, 1)
	if s.MemoryLimit > 0 {
		lim := mib(uint64(s.MemoryLimit))
		first, last := s.Points[0].At.Seconds(), s.Points[0].At.Seconds()
		for _, pt := range s.Points {
			first, last = min(first, pt.At.Seconds()), max(last, pt.At.Seconds())
		}
		l, err := plotter.NewLine(plotter.XYs{{X: first, Y: lim}, {X: last, Y: lim}})
		if err != nil {
			return nil, fmt.Errorf("gctrace/plot: memory limit: %w", err)
		}
		l.Color = colLimit
		l.Width = vg.Points(1)
		l.Dashes = []vg.Length{vg.Points(2), vg.Points(2)}
		p.Add(l)
		p.Legend.Add(fmt.Sprintf("GOMEMLIMIT %.0f MiB", lim), l)
	}
	return p, nil
}

func pausePlot(s *gctrace.Summary) (*gplot.Plot, error) {
	p := gplot.New()
	p.Title.Text = fmt.Sprintf("stop-the-world pause per cycle (p99 %.3g ms, max %.3g ms)",
		float64(s.Pause.P99.Microseconds())/1e3, float64(s.Pause.Max.Microseconds())/1e3)
	p.X.Label.Text = "seconds since program start"
	p.Y.Label.Text = "ms"
	p.Y.Min = 0
	p.Legend.Top = true
	p.Legend.Left = true
	p.Add(plotter.NewGrid())
	var normal, forced plotter.XYs
	top := 0.0
	for _, pt := range s.Points {
		xy := plotter.XY{X: pt.At.Seconds(), Y: float64(pt.Pause.Microseconds()) / 1e3}
		top = max(top, xy.Y)
		if pt.Forced > 0 {
			forced = append(forced, xy)
		} else {
			normal = append(normal, xy)
		}
	}
	p.Y.Max = max(top*1.3, 0.01)
	for _, sr := range []struct {
		name  string
		xys   plotter.XYs
		col   color.Color
		shape draw.GlyphDrawer
	}{
		{"pause", normal, colPause, draw.CircleGlyph{}},
		{"pause, forced cycle (runtime.GC)", forced, colForced, draw.CrossGlyph{}},
	} {
		if len(sr.xys) == 0 {
			continue
		}
		sc, err := plotter.NewScatter(sr.xys)
		if err != nil {
			return nil, fmt.Errorf("gctrace/plot: %s: %w", sr.name, err)
		}
		sc.GlyphStyle.Color = sr.col
		sc.GlyphStyle.Radius = vg.Points(2)
		sc.GlyphStyle.Shape = sr.shape
		p.Add(sc)
		p.Legend.Add(sr.name, sc)
	}
	return p, nil
}
