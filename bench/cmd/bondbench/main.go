// Command bondbench is the driver of `make bench` (scripts/bench.sh): it
// starts the service binary and the bare reference server as processes,
// loads the data sets through the service's API, runs the scenarios with
// vegeta, and prints one table plus the ratio lines; the results go to
// BENCH_OUT as results.json and latency.png. It drives the service over HTTP
// and its command line only (serve, migrate), never through its packages.
//
//	bondbench [run]            the whole benchmark (configured by BENCH_* variables)
//	bondbench compare OLD NEW  GET /bonds/{id} of two service binaries, paired: NEW / OLD
//	bondbench bare             the bare net/http reference server (PORT, BENCH_BONDS, BENCH_SEED)
//
// Settings (environment): BENCH_BIN (bin/bond-registry), BENCH_OUT
// (build/bench), BENCH_BONDS (10000), BENCH_SCALE (1000,100000; none: no
// scale runs), BENCH_CLIENTS (32), BENCH_DURATION (6s), BENCH_WARMUP (1s),
// BENCH_RATE (300), BENCH_STARTUP_RUNS (10), BENCH_SEED (1),
// BENCH_COMPARE_ROUNDS (10), DYNAMODB_ENDPOINT (empty: skip the DynamoDB
// scenarios). The service processes inherit the environment, so the AWS
// region and credentials are the SDK's default chain's.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args, os.Getenv, os.Stdout, os.Stderr)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "bondbench:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	cfg, err := loadConfig(getenv)
	if err != nil {
		return err
	}
	cmd := "run"
	if len(args) > 1 {
		cmd = args[1]
	}
	switch cmd {
	case "run":
		return runBench(ctx, cfg, getenv, stdout, stderr)
	case "compare":
		if len(args) != 4 {
			return errors.New("usage: bondbench compare OLD_BINARY NEW_BINARY")
		}
		return runCompare(ctx, cfg, args[2], args[3], stdout, stderr)
	case "bare":
		return serveBare(ctx, cfg, getenv("PORT"))
	}
	return fmt.Errorf("unknown command %q: want run, compare or bare", cmd)
}

// config is the bench's settings, from BENCH_* variables.
type config struct {
	Bin, Out       string
	Bonds          int
	Scale          []int
	Clients        int
	Duration       time.Duration
	Warmup         time.Duration
	Rate           int
	StartupRuns    int
	Seed           uint64
	CompareRounds  int
	DynamoEndpoint string
}

func loadConfig(getenv func(string) string) (config, error) {
	c := config{Bin: "bin/bond-registry", Out: "build/bench", Bonds: 10000, Scale: []int{1000, 100000},
		Clients: 32, Duration: 6 * time.Second, Warmup: time.Second, Rate: 300, StartupRuns: 10, Seed: 1,
		CompareRounds: 10}
	str := func(name string, dst *string) {
		if v := getenv(name); v != "" {
			*dst = v
		}
	}
	var errs []error
	num := func(name string, dst *int, min int) {
		if v := getenv(name); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil || n < min {
				errs = append(errs, fmt.Errorf("%s=%q: want an integer >= %d", name, v, min))
				return
			}
			*dst = n
		}
	}
	dur := func(name string, dst *time.Duration) {
		if v := getenv(name); v != "" {
			d, err := time.ParseDuration(v)
			if err != nil || d < 0 {
				errs = append(errs, fmt.Errorf("%s=%q: want a duration such as 6s", name, v))
				return
			}
			*dst = d
		}
	}
	str("BENCH_BIN", &c.Bin)
	str("BENCH_OUT", &c.Out)
	str("DYNAMODB_ENDPOINT", &c.DynamoEndpoint)
	num("BENCH_BONDS", &c.Bonds, 100)
	num("BENCH_CLIENTS", &c.Clients, 1)
	num("BENCH_RATE", &c.Rate, 1)
	num("BENCH_STARTUP_RUNS", &c.StartupRuns, 1)
	num("BENCH_COMPARE_ROUNDS", &c.CompareRounds, 2)
	dur("BENCH_DURATION", &c.Duration)
	dur("BENCH_WARMUP", &c.Warmup)
	seed := int(c.Seed)
	num("BENCH_SEED", &seed, 0)
	c.Seed = uint64(seed)
	if v := getenv("BENCH_SCALE"); v == "none" {
		c.Scale = nil
	} else if v != "" {
		c.Scale = nil
		for f := range strings.SplitSeq(v, ",") {
			n, err := strconv.Atoi(strings.TrimSpace(f))
			if err != nil || n < 100 {
				errs = append(errs, fmt.Errorf("BENCH_SCALE=%q: want sizes >= 100 separated by commas, none, or unset", v))
				break
			}
			c.Scale = append(c.Scale, n)
		}
	}
	if c.Duration == 0 {
		errs = append(errs, errors.New("BENCH_DURATION must be above 0"))
	}
	return c, errors.Join(errs...)
}

// serveBare runs the bare reference server until ctx is cancelled.
func serveBare(ctx context.Context, cfg config, port string) error {
	if port == "" {
		return errors.New("bare: PORT is not set")
	}
	srv := &http.Server{Handler: bareHandler(cfg), ReadHeaderTimeout: 5 * time.Second, IdleTimeout: 90 * time.Second}
	ln, err := net.Listen("tcp", "127.0.0.1:"+port)
	if err != nil {
		return fmt.Errorf("bare: %w", err)
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("bare: %w", err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return srv.Shutdown(sctx)
}
