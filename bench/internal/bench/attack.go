package bench

import (
	"context"
	"fmt"
	"math"
	"net"
	"net/http"
	"slices"
	"sort"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"
)

// Scenario is one measurement: a vegeta attack on one system.
type Scenario struct {
	Name    string // what is measured, e.g. "GET /bonds/{id}"
	System  string // bolt, dynamodb, bare, direct
	Bonds   int    // bonds in the store
	Clients int    // closed loop: concurrent clients; constant rate: initial workers
	Rate    int    // requests per second; 0 is the closed loop

	Duration time.Duration
	Warmup   time.Duration // a closed-loop warm-up whose results are dropped

	Targeter vegeta.Targeter
	Client   *http.Client // nil: vegeta's own HTTP client (keep-alive)
	PID      int          // server process whose peak RSS is reported; 0: none
}

// Result is what a scenario measured. Latencies are in milliseconds.
type Result struct {
	Name     string  `json:"name"`
	System   string  `json:"system"`
	Bonds    int     `json:"bonds"`
	Mode     string  `json:"mode"` // "closed" or "rate"
	Clients  int     `json:"clients"`
	Rate     int     `json:"rate,omitempty"`
	Seconds  float64 `json:"seconds"`
	Requests int     `json:"requests"`
	Errors   int     `json:"errors"`
	RPS      float64 `json:"rps"` // successful requests per second
	P50      float64 `json:"p50_ms"`
	P90      float64 `json:"p90_ms"`
	P99      float64 `json:"p99_ms"`
	P999     float64 `json:"p99_9_ms"`
	Max      float64 `json:"max_ms"`
	// PeakRSSMB is the server's VmHWM after the scenario (reset before it
	// when the kernel allows), in MiB; 0 when there is no server process.
	PeakRSSMB float64 `json:"peak_rss_mib,omitempty"`
	// PeakAnonMB is the peak of the server's anonymous resident memory
	// (RssAnon sampled every 20 ms): VmHWM without the mapped file pages.
	PeakAnonMB  float64      `json:"peak_anon_rss_mib,omitempty"`
	ErrorSample []string     `json:"error_sample,omitempty"`
	Curve       []CurvePoint `json:"latency_curve"`
}

// Key names a result for ratio lines: system, name, bonds.
func (r Result) Key() string { return fmt.Sprintf("%s|%s|%d|%s", r.System, r.Name, r.Bonds, r.Mode) }

// CurvePoint is one point of a latency distribution: the latency (ms) at
// quantile Q.
type CurvePoint struct {
	Q  float64 `json:"q"`
	Ms float64 `json:"ms"`
}

// Run runs the scenario: an optional warm-up, then the measured attack.
func Run(ctx context.Context, s Scenario) (Result, error) {
	if s.Warmup > 0 {
		if _, _, _, err := attack(ctx, s, s.Warmup, 0); err != nil {
			return Result{}, err
		}
	}
	var anon *anonSampler
	if s.PID > 0 {
		resetPeakRSS(s.PID)
		anon = sampleAnon(s.PID)
	}
	lat, errs, elapsed, err := attack(ctx, s, s.Duration, s.Rate)
	peakAnon := 0.0
	if anon != nil {
		peakAnon = anon.Peak()
	}
	if err != nil {
		return Result{}, err
	}
	res := Result{
		Name: s.Name, System: s.System, Bonds: s.Bonds, Mode: "closed", Clients: s.Clients, Rate: s.Rate,
		Seconds: elapsed.Seconds(), Requests: len(lat) + errs.n, Errors: errs.n, ErrorSample: errs.sample,
	}
	if s.Rate > 0 {
		res.Mode = "rate"
	}
	if elapsed > 0 {
		res.RPS = float64(len(lat)) / elapsed.Seconds()
	}
	slices.Sort(lat)
	res.P50, res.P90, res.P99, res.P999 = quantile(lat, 0.50), quantile(lat, 0.90), quantile(lat, 0.99), quantile(lat, 0.999)
	if len(lat) > 0 {
		res.Max = lat[len(lat)-1]
	}
	res.Curve = curve(lat)
	if s.PID > 0 {
		res.PeakRSSMB = peakRSSMiB(s.PID)
		res.PeakAnonMB = peakAnon
	}
	return res, nil
}

type errorCount struct {
	n      int
	sample []string
}

func (e *errorCount) add(msg string) {
	e.n++
	if len(e.sample) < 5 && !slices.Contains(e.sample, msg) {
		e.sample = append(e.sample, msg)
	}
}

// attack runs one vegeta attack and returns the latencies (ms) of the
// successful requests, the errors, and the wall time from the first request
// sent to the last answer received. rate 0 is the closed loop: exactly
// s.Clients workers, each sending its next request when the previous one is
// answered (vegeta's max-workers mode with an unbounded rate).
func attack(ctx context.Context, s Scenario, d time.Duration, rate int) ([]float64, errorCount, time.Duration, error) {
	clients := max(s.Clients, 1)
	opts := []func(*vegeta.Attacker){
		vegeta.Workers(uint64(clients)),
		vegeta.MaxBody(0), // the body is read and dropped: results stay small
	}
	pacer := vegeta.Rate{Freq: 0, Per: time.Second}
	if rate > 0 {
		pacer = vegeta.Rate{Freq: rate, Per: time.Second}
		// Open loop: vegeta adds workers when responses are late, up to a bound.
		opts = append(opts, vegeta.MaxWorkers(uint64(max(4*clients, 256))))
	} else {
		opts = append(opts, vegeta.MaxWorkers(uint64(clients)))
	}
	client := s.Client
	if client == nil {
		// vegeta's default client, kept here so that its connections can be
		// closed after the attack: a connection dialed but never used stays
		// "new" on the server, and http.Server.Shutdown waits 5 s for it.
		tr := &http.Transport{
			Proxy:               http.ProxyFromEnvironment,
			DialContext:         (&net.Dialer{KeepAlive: 30 * time.Second}).DialContext,
			MaxIdleConnsPerHost: clients,
		}
		defer tr.CloseIdleConnections()
		client = &http.Client{Timeout: 30 * time.Second, Transport: tr}
	}
	opts = append(opts, vegeta.Client(client))
	atk := vegeta.NewAttacker(opts...)
	var (
		lat         = make([]float64, 0, 1<<16)
		errs        errorCount
		first, last time.Time
	)
	stop := context.AfterFunc(ctx, func() { atk.Stop() })
	defer stop()
	for r := range atk.Attack(s.Targeter, pacer, d, s.System+" "+s.Name) {
		if first.IsZero() || r.Timestamp.Before(first) {
			first = r.Timestamp
		}
		if end := r.Timestamp.Add(r.Latency); end.After(last) {
			last = end
		}
		if r.Error != "" {
			errs.add(r.Error)
			continue
		}
		lat = append(lat, float64(r.Latency)/float64(time.Millisecond))
	}
	if err := ctx.Err(); err != nil {
		return nil, errs, 0, fmt.Errorf("%s %s: %w", s.System, s.Name, err)
	}
	if len(lat) == 0 && errs.n > 0 {
		return nil, errs, 0, fmt.Errorf("%s %s: every request failed, e.g. %q", s.System, s.Name, errs.sample[0])
	}
	return lat, errs, last.Sub(first), nil
}

// quantile is the nearest-rank quantile of sorted values.
func quantile(sorted []float64, q float64) float64 {
	if len(sorted) == 0 {
		return 0
	}
	i := int(math.Ceil(q*float64(len(sorted)))) - 1
	return sorted[min(max(i, 0), len(sorted)-1)]
}

// curve samples the distribution from p0 to p99.9 at even steps of
// log10(1/(1-q)) ("nines"), the x axis of the plot.
func curve(sorted []float64) []CurvePoint {
	if len(sorted) == 0 {
		return nil
	}
	var pts []CurvePoint
	for nines := 0.0; nines <= 3.0001; nines += 0.05 {
		q := 1 - math.Pow(10, -nines)
		pts = append(pts, CurvePoint{Q: q, Ms: quantile(sorted, q)})
	}
	return pts
}

// Median returns the median of durations.
func Median(ds []time.Duration) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	return s[len(s)/2]
}
