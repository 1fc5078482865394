package bench

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"
)

// Report is the whole run, written as JSON to build/bench/results.json.
type Report struct {
	Started   time.Time `json:"started"`
	Machine   Machine   `json:"machine"`
	Command   string    `json:"command"`
	Clients   int       `json:"clients"`
	Duration  string    `json:"duration_per_scenario"`
	Rate      int       `json:"rate"`
	Results   []Result  `json:"results"`
	Ratios    []Ratio   `json:"ratios"`
	Startup   Startup   `json:"startup"`
	BinaryMiB float64   `json:"binary_mib"`
	Notes     []string  `json:"notes"`
	Seconds   float64   `json:"total_seconds"`
}

// Machine describes where the run happened.
type Machine struct {
	CPUs  int    `json:"cpus"`
	Model string `json:"cpu_model"`
	Go    string `json:"go"`
	OS    string `json:"os"`
}

// Startup is the start-to-ready measurement on the embedded store.
type Startup struct {
	Runs      int     `json:"runs"`
	Bonds     int     `json:"bonds"`
	MedianMs  float64 `json:"median_ms"`
	MinMs     float64 `json:"min_ms"`
	MaxMs     float64 `json:"max_ms"`
	TargetMs  float64 `json:"target_ms"`
	TargetMet bool    `json:"target_met"`
}

// Ratio compares two results of the run: Num / Den.
type Ratio struct {
	Name     string  `json:"name"`
	Num      string  `json:"num"`
	Den      string  `json:"den"`
	RPS      float64 `json:"rps_ratio"` // Num req/s / Den req/s
	P99      float64 `json:"p99_ratio"` // Num p99 / Den p99
	Target   string  `json:"target"`
	Met      bool    `json:"target_met"`
	Measured bool    `json:"measured"`
}

// Find returns the result with the given system, name, bonds and mode.
func Find(rs []Result, system, name string, bonds int, mode string) (Result, bool) {
	for _, r := range rs {
		if r.System == system && r.Name == name && r.Bonds == bonds && r.Mode == mode {
			return r, true
		}
	}
	return Result{}, false
}

// Compare builds a ratio line between two results; check decides whether
// the target is met (nil: no target).
func Compare(name string, num, den Result, okNum, okDen bool, target string, check func(rps, p99 float64) bool) Ratio {
	r := Ratio{Name: name, Num: num.Key(), Den: den.Key(), Target: target}
	if !okNum || !okDen || den.RPS == 0 || den.P99 == 0 {
		return r
	}
	r.Measured = true
	r.RPS, r.P99 = num.RPS/den.RPS, num.P99/den.P99
	if check != nil {
		r.Met = check(r.RPS, r.P99)
	}
	return r
}

// PrintTable writes the results table.
func PrintTable(w io.Writer, rs []Result) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "scenario\tsystem\tbonds\tload\treq/s\tp50 ms\tp99 ms\tp99.9 ms\terrors\tpeak RSS MiB\tpeak anon MiB\t")
	for _, r := range rs {
		load := fmt.Sprintf("%d clients", r.Clients)
		if r.Mode == "rate" {
			load = fmt.Sprintf("%d/s", r.Rate)
		}
		rss, anon := "-", "-"
		if r.PeakRSSMB > 0 {
			rss = fmt.Sprintf("%.1f", r.PeakRSSMB)
		}
		if r.PeakAnonMB > 0 {
			anon = fmt.Sprintf("%.1f", r.PeakAnonMB)
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t%.0f\t%.2f\t%.2f\t%.2f\t%d\t%s\t%s\t\n",
			r.Name, r.System, r.Bonds, load, r.RPS, r.P50, r.P99, r.P999, r.Errors, rss, anon)
	}
	_ = tw.Flush()
	for _, r := range rs {
		if len(r.ErrorSample) > 0 {
			fmt.Fprintf(w, "  errors of %s %s (%d bonds): %s\n", r.System, r.Name, r.Bonds, strings.Join(r.ErrorSample, "; "))
		}
	}
}

// PrintRatios writes the ratio lines.
func PrintRatios(w io.Writer, rs []Ratio) {
	for _, r := range rs {
		if !r.Measured {
			fmt.Fprintf(w, "ratio %-44s not measured\n", r.Name+":")
			continue
		}
		verdict := ""
		if r.Target != "" {
			verdict = "  target " + r.Target + ": "
			if r.Met {
				verdict += "met"
			} else {
				verdict += "MISSED"
			}
		}
		fmt.Fprintf(w, "ratio %-44s req/s %5.2fx   p99 %5.2fx%s\n", r.Name+":", r.RPS, r.P99, verdict)
	}
}

// WriteJSON writes the report to path.
func WriteJSON(path string, rep Report) error {
	data, err := json.MarshalIndent(rep, "", "  ")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.WriteFile(path, append(data, '\n'), 0o644); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

// ReadMachine describes this machine from runtime and /proc/cpuinfo.
func ReadMachine(cpus int, goVersion, goos string) Machine {
	m := Machine{CPUs: cpus, Go: goVersion, OS: goos, Model: "unknown"}
	data, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return m
	}
	for line := range strings.SplitSeq(string(data), "\n") {
		if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
			m.Model = strings.TrimSpace(v)
			break
		}
	}
	return m
}
