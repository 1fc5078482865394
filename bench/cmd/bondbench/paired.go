package main

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/bondregistry/bond-registry/bench/internal/bench"
)

// pairedRounds is how many short rounds each paired comparison of the
// bench runs.
const pairedRounds = 4

// roundDuration is the measured time of one side of one round.
func roundDuration(cfg config) time.Duration { return max(cfg.Duration/3, time.Second) }

// paired compares num with den in alternating short rounds (num den, den
// num, ...), so that the drift of a shared machine, which moves whole
// scenarios run a minute apart, hits both sides alike. The ratio line is the
// median of the rounds' ratios.
func (b *bencher) paired(ctx context.Context, label string, num, den bench.Scenario, target string, check func(rps, p99 float64) bool) error {
	return b.pairedRounds(ctx, label, num, den, target, check, pairedRounds)
}

// pairedRounds is paired with the given number of rounds.
func (b *bencher) pairedRounds(ctx context.Context, label string, num, den bench.Scenario, target string, check func(rps, p99 float64) bool, rounds int) error {
	var rps, p99 []float64
	for i := range rounds {
		order := []*bench.Scenario{&num, &den}
		if i%2 == 1 {
			order = []*bench.Scenario{&den, &num}
		}
		got := map[*bench.Scenario]bench.Result{}
		for _, s := range order {
			run := *s
			if run.Clients == 0 {
				run.Clients = b.cfg.Clients
			}
			run.Duration, run.Warmup = roundDuration(b.cfg), b.cfg.Warmup/2
			r, err := bench.Run(ctx, run)
			if err != nil {
				return fmt.Errorf("bench: %w", err)
			}
			got[s] = r
		}
		n, d := got[&num], got[&den]
		if d.RPS == 0 || d.P99 == 0 {
			return fmt.Errorf("bench: paired %s: %s answered nothing", label, den.System)
		}
		rps, p99 = append(rps, n.RPS/d.RPS), append(p99, n.P99/d.P99)
		b.logf("paired %-44s round %d: %6.0f / %6.0f req/s = %.2fx, p99 %.2fx", label, i+1, n.RPS, d.RPS, rps[i], p99[i])
	}
	r := bench.Ratio{Name: label + " (paired)", Num: num.System + "|" + num.Name, Den: den.System + "|" + den.Name,
		RPS: median(rps), P99: median(p99), Target: target, Measured: true}
	if check != nil {
		r.Met = check(r.RPS, r.P99)
	}
	b.pairedRatios = append(b.pairedRatios, r)
	return nil
}

func median(xs []float64) float64 {
	s := slices.Sorted(slices.Values(xs))
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}
