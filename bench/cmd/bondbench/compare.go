package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/bondregistry/bond-registry/bench/internal/bench"
)

// runCompare answers "does this change pay for itself?" end to end: it
// loads the main data set into a bolt file of each binary (through that
// binary's own API, so each writes its own record format), serves both, and
// runs GET /bonds/{id} on them in alternating rounds (see paired). It prints
// the rounds and the ratio line NEW / OLD.
func runCompare(ctx context.Context, cfg config, oldBin, newBin string, stdout, stderr io.Writer) (err error) {
	b := &bencher{cfg: cfg, log: stderr, started: time.Now()}
	defer func() { err = errors.Join(err, b.stopAll()) }()
	if err := os.MkdirAll(filepath.Join(cfg.Out, "logs"), 0o755); err != nil {
		return fmt.Errorf("bench: %w", err)
	}
	d := bench.Generate(cfg.Bonds, cfg.Seed)
	var servers []*bench.Server
	for i, bin := range []string{oldBin, newBin} {
		b.cfg.Bin = bin
		name := []string{"old", "new"}[i]
		dir, err := os.MkdirTemp("", "bondbench-compare-")
		if err != nil {
			return fmt.Errorf("bench: %w", err)
		}
		defer os.RemoveAll(dir)
		env := []string{"STORE=bolt", "BOLT_PATH=" + filepath.Join(dir, "bonds.db")}
		s, err := b.startService(ctx, "compare-"+name, env...)
		if err != nil {
			return err
		}
		if err := bench.Load(ctx, s.URL, d.Bonds, 64); err != nil {
			return fmt.Errorf("bench: load %s: %w", bin, err)
		}
		servers = append(servers, s)
	}
	n := cfg.Bonds
	scenario := func(system string, s *bench.Server) bench.Scenario {
		return bench.Scenario{Name: nameGet, System: system, Bonds: n, Targeter: (&bench.Targets{Base: s.URL, Bonds: n}).GetBond()}
	}
	// One unmeasured run of each side first: the first requests after a
	// load pay for the freshly written file's pages and a collection.
	for _, s := range []bench.Scenario{scenario("old", servers[0]), scenario("new", servers[1])} {
		s.Clients, s.Duration = cfg.Clients, max(cfg.Warmup, time.Second)
		if _, err := bench.Run(ctx, s); err != nil {
			return fmt.Errorf("bench: warm-up: %w", err)
		}
	}
	if err := b.pairedRounds(ctx, "new GET / old GET", scenario("new", servers[1]), scenario("old", servers[0]),
		"", nil, cfg.CompareRounds); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "\nold: %s\nnew: %s\n%d bonds, %d clients, %d rounds of %s each side\n", oldBin, newBin, n,
		cfg.Clients, cfg.CompareRounds, roundDuration(cfg))
	bench.PrintRatios(stdout, b.pairedRatios)
	return nil
}
