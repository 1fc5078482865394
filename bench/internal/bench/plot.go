package bench

import (
	"fmt"
	"math"
	"os"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
)

// Panel is one chart of the PNG: the results it selects are drawn as
// latency-by-percentile curves.
type Panel struct {
	Title  string
	Select func(Result) bool
}

// WritePlot draws one latency distribution chart per panel, side by side,
// into a PNG at path. The x axis is the percentile on a "nines" scale (p50,
// p90, p99, p99.9 evenly spaced), the y axis the latency on a log scale.
func WritePlot(path string, rs []Result, panels []Panel) error {
	const w, h = 7 * vg.Inch, 6 * vg.Inch
	img := vgimg.New(vg.Length(len(panels))*w, h)
	dc := draw.New(img)
	tiles := draw.Tiles{Rows: 1, Cols: len(panels), PadX: vg.Millimeter, PadY: vg.Millimeter,
		PadTop: vg.Millimeter, PadBottom: vg.Millimeter, PadLeft: vg.Millimeter, PadRight: vg.Millimeter}
	for i, pn := range panels {
		p := plot.New()
		p.Title.Text = pn.Title
		p.X.Label.Text = "percentile"
		p.Y.Label.Text = "latency (ms, log scale)"
		p.Y.Scale = plot.LogScale{}
		p.Y.Tick.Marker = plot.LogTicks{Prec: -1}
		p.X.Min, p.X.Max = 0, 3
		p.X.Tick.Marker = plot.ConstantTicks{
			{Value: 0, Label: "p0"}, {Value: math.Log10(2), Label: "p50"}, {Value: 1, Label: "p90"},
			{Value: 2, Label: "p99"}, {Value: 3, Label: "p99.9"},
		}
		p.Legend.Top, p.Legend.Left = true, true
		p.Add(plotter.NewGrid())
		var lines []any
		top := 0.0
		for _, r := range rs {
			if !pn.Select(r) || len(r.Curve) == 0 {
				continue
			}
			xys := make(plotter.XYs, len(r.Curve))
			for j, c := range r.Curve {
				xys[j].X = -math.Log10(math.Max(1-c.Q, 1e-6))
				xys[j].Y = math.Max(c.Ms, 0.01)
				top = math.Max(top, xys[j].Y)
			}
			label := fmt.Sprintf("%s %s", r.System, r.Name)
			if r.Bonds > 0 {
				label += fmt.Sprintf(" %dk", r.Bonds/1000)
			}
			if r.Mode == "rate" {
				label += fmt.Sprintf(" @%d/s", r.Rate)
			}
			lines = append(lines, label, xys)
		}
		if len(lines) == 0 {
			p.Title.Text += " (not measured)"
			p.Y.Scale, p.Y.Tick.Marker = plot.LinearScale{}, plot.DefaultTicks{}
		} else {
			if err := plotutil.AddLines(p, lines...); err != nil {
				return fmt.Errorf("plot %s: %w", pn.Title, err)
			}
			// Room above the curves for the legend (log scale: a factor).
			p.Y.Max = top * math.Pow(10, 0.25*float64(len(lines)/2))
		}
		p.Draw(tiles.At(dc, i, 0))
	}
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("plot: %w", err)
	}
	if _, err := (vgimg.PngCanvas{Canvas: img}).WriteTo(f); err != nil {
		f.Close()
		return fmt.Errorf("plot %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("plot %s: %w", path, err)
	}
	return nil
}
