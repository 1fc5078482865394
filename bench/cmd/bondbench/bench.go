package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"time"

	"github.com/bondregistry/bond-registry/bench/internal/bench"
)

// Scenario names, shared by the table, the ratios and the plot.
const (
	nameGet    = "GET /bonds/{id}"
	namePost   = "POST /bonds"
	namePostK  = "POST /bonds with Idempotency-Key"
	nameSub    = "POST /bonds/{id}/subscribers"
	nameList   = "GET /bonds?cost_center_id=X&limit=100"
	nameMixed  = "mixed 90% GET, 10% writes"
	nameGetWrn = "GET /bonds/{id} LOG_LEVEL=warn"
)

// originalCreateRPS is the one recorded figure of the original FastAPI
// service: about 25 POST /bonds per second (docs/performance.md).
const originalCreateRPS = 25.0

// bencher runs the scenarios of one bench run and keeps the results.
type bencher struct {
	cfg     config
	log     io.Writer
	results []bench.Result
	servers []*bench.Server // started and not yet stopped
	started time.Time

	pairedRatios []bench.Ratio // from paired, in the order measured
}

func (b *bencher) logf(format string, args ...any) {
	fmt.Fprintf(b.log, "bondbench: [%5.1fs] %s\n", time.Since(b.started).Seconds(), fmt.Sprintf(format, args...))
}

func runBench(ctx context.Context, cfg config, getenv func(string) string, stdout, stderr io.Writer) (err error) {
	b := &bencher{cfg: cfg, log: stderr, started: time.Now()}
	defer func() { err = errors.Join(err, b.stopAll()) }()
	for _, dir := range []string{cfg.Out, filepath.Join(cfg.Out, "data"), filepath.Join(cfg.Out, "logs")} {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return fmt.Errorf("bench: %w", err)
		}
	}
	binInfo, err := os.Stat(cfg.Bin)
	if err != nil {
		return fmt.Errorf("bench: the service binary: %w (run make build)", err)
	}
	rep := bench.Report{
		Started: b.started, Machine: bench.ReadMachine(runtime.NumCPU(), runtime.Version(), runtime.GOOS+"/"+runtime.GOARCH),
		Command: "make bench", Clients: cfg.Clients, Duration: cfg.Duration.String(), Rate: cfg.Rate,
		BinaryMiB: float64(binInfo.Size()) / (1 << 20),
	}

	// Data sets: the main size and the scale sizes, each in its own bolt file.
	sizes := []int{cfg.Bonds}
	for _, n := range cfg.Scale {
		if !slices.Contains(sizes, n) {
			sizes = append(sizes, n)
		}
	}
	datasets := map[int]bench.Dataset{}
	for _, n := range sizes {
		d := bench.Generate(n, cfg.Seed)
		datasets[n] = d
		if err := b.loadBolt(ctx, n, d); err != nil {
			return err
		}
	}
	main := datasets[cfg.Bonds]

	if rep.Startup, err = b.startup(ctx); err != nil {
		return err
	}
	if err := b.runBare(ctx); err != nil {
		return err
	}
	if err := b.runBolt(ctx, main, cfg.Bonds, true); err != nil {
		return err
	}
	if err := b.runPairedBolt(ctx); err != nil {
		return err
	}
	for _, n := range cfg.Scale {
		if err := b.runBolt(ctx, datasets[n], n, false); err != nil {
			return err
		}
	}
	if cfg.DynamoEndpoint != "" {
		if err := b.runDynamo(ctx, main); err != nil {
			return err
		}
	} else {
		rep.Notes = append(rep.Notes, "DYNAMODB_ENDPOINT not set: DynamoDB scenarios skipped")
	}

	rep.Results = b.results
	rep.Ratios = append(b.ratios(), b.pairedRatios...)
	rep.Seconds = time.Since(b.started).Seconds()
	rep.Notes = append(rep.Notes,
		fmt.Sprintf("load generator (vegeta, in bondbench), server and DynamoDB Local share the same %d CPUs: absolute numbers are low and drift; read the ratios", runtime.NumCPU()),
		"the service runs at its production log level (info): one JSON access line per request, written to /dev/null (formatting and write syscall paid, no disk)",
		"closed loop: N clients each send the next request when the previous answer arrives; rate: constant arrival rate, latency measured from the scheduled send",
		"peak RSS: VmHWM of the server process, reset before each scenario (clear_refs)",
		"DynamoDB's direct-SDK ceilings are not here: scripts/bench.sh prints them after this table (internal/dynamostore's paired benchmark)",
	)
	b.report(stdout, rep)
	if err := bench.WriteJSON(filepath.Join(cfg.Out, "results.json"), rep); err != nil {
		return err
	}
	return bench.WritePlot(filepath.Join(cfg.Out, "latency.png"), b.results, b.panels())
}

// loadBolt writes the data set into a fresh bolt file through the
// service's API (POST /bonds from 64 clients: the service's DB.Batch
// coalesces their writes), with access logging off.
func (b *bencher) loadBolt(ctx context.Context, n int, d bench.Dataset) error {
	path := b.boltPath(n)
	if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("bench: %w", err)
	}
	t0 := time.Now()
	s, err := b.startService(ctx, fmt.Sprintf("bolt-%d-load", n), "STORE=bolt", "BOLT_PATH="+path, "LOG_LEVEL=warn")
	if err != nil {
		return err
	}
	err = bench.Load(ctx, s.URL, d.Bonds, 64)
	if err = errors.Join(err, b.stop(s)); err != nil {
		return fmt.Errorf("bench: load bolt %d: %w", n, err)
	}
	b.logf("bolt: loaded %d bonds (%d host cost centers, largest %d) in %.1fs", n, len(d.ByHostCostCenter),
		d.ByHostCostCenter[d.FullCostCenters(1)[0]], time.Since(t0).Seconds())
	return nil
}

func (b *bencher) boltPath(n int) string {
	return filepath.Join(b.cfg.Out, "data", fmt.Sprintf("bonds-%d.db", n))
}

// startService starts bin/bond-registry with the given environment, and no
// in-flight limit (MAX_IN_FLIGHT=0): the rate scenarios may run more workers
// than the default limit, and the benchmark measures the service, not its
// load shedding.
func (b *bencher) startService(ctx context.Context, name string, env ...string) (*bench.Server, error) {
	env = append([]string{"MAX_IN_FLIGHT=0"}, env...)
	s, err := bench.StartServer(ctx, bench.ServerSpec{
		Name: name, Path: b.cfg.Bin, Args: []string{"serve"}, Env: env, ReadyPath: "/readyz",
		Stderr: filepath.Join(b.cfg.Out, "logs", name+".stderr.log"),
	}, 60*time.Second)
	if err != nil {
		return nil, fmt.Errorf("bench: %w", err)
	}
	b.servers = append(b.servers, s)
	if name != "startup" {
		b.logf("%s: started pid %d, ready in %.0f ms", name, s.PID(), ms(s.Ready))
	}
	return s, nil
}

func (b *bencher) stop(s *bench.Server) error {
	b.servers = slices.DeleteFunc(b.servers, func(x *bench.Server) bool { return x == s })
	t0 := time.Now()
	err := s.Stop()
	if s.Name != "startup" {
		b.logf("%s: stopped in %.0f ms", s.Name, ms(time.Since(t0)))
	}
	return err
}

func (b *bencher) stopAll() error {
	var errs []error
	for _, s := range b.servers {
		errs = append(errs, s.Stop())
	}
	b.servers = nil
	return errors.Join(errs...)
}

// startup measures exec-to-/readyz-200 of the service on the main bolt file.
func (b *bencher) startup(ctx context.Context) (bench.Startup, error) {
	var ds []time.Duration
	for i := range b.cfg.StartupRuns {
		s, err := b.startService(ctx, "startup", "STORE=bolt", "BOLT_PATH="+b.boltPath(b.cfg.Bonds))
		if err != nil {
			return bench.Startup{}, err
		}
		ds = append(ds, s.Ready)
		if err := b.stop(s); err != nil {
			return bench.Startup{}, fmt.Errorf("bench: startup run %d: %w", i, err)
		}
	}
	st := bench.Startup{Runs: len(ds), Bonds: b.cfg.Bonds, TargetMs: 100,
		MedianMs: ms(bench.Median(ds)), MinMs: ms(slices.Min(ds)), MaxMs: ms(slices.Max(ds))}
	st.TargetMet = st.MedianMs < st.TargetMs
	b.logf("startup: median %.1f ms over %d runs", st.MedianMs, st.Runs)
	return st, nil
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// scenario runs one scenario and records its result.
func (b *bencher) scenario(ctx context.Context, s bench.Scenario) error {
	if s.Clients == 0 {
		s.Clients = b.cfg.Clients
	}
	s.Duration, s.Warmup = b.cfg.Duration, b.cfg.Warmup
	r, err := bench.Run(ctx, s)
	if err != nil {
		return fmt.Errorf("bench: %w", err)
	}
	b.logf("%-8s %-40s %7d bonds %9.0f req/s  p99 %7.2f ms  errors %d", r.System, r.Name, r.Bonds, r.RPS, r.P99, r.Errors)
	b.results = append(b.results, r)
	return nil
}

// startBare starts the bare net/http reference server.
func (b *bencher) startBare(ctx context.Context) (*bench.Server, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, fmt.Errorf("bench: %w", err)
	}
	s, err := bench.StartServer(ctx, bench.ServerSpec{
		Name: "bare", Path: self, Args: []string{"bare"}, ReadyPath: "/readyz",
		Env:    []string{"BENCH_BONDS=" + strconv.Itoa(b.cfg.Bonds), "BENCH_SEED=" + strconv.FormatUint(b.cfg.Seed, 10)},
		Stderr: filepath.Join(b.cfg.Out, "logs", "bare.stderr.log"),
	}, 30*time.Second)
	if err != nil {
		return nil, fmt.Errorf("bench: %w", err)
	}
	b.servers = append(b.servers, s)
	return s, nil
}

// runPairedBolt runs GET /bonds/{id} on bolt and on the bare server in
// alternating rounds (see paired).
func (b *bencher) runPairedBolt(ctx context.Context) error {
	bare, err := b.startBare(ctx)
	if err != nil {
		return err
	}
	s, err := b.startService(ctx, "bolt-paired", "STORE=bolt", "BOLT_PATH="+b.boltPath(b.cfg.Bonds))
	if err != nil {
		return err
	}
	n := b.cfg.Bonds
	if err := bench.SameAnswer(s.URL, bare.URL, "/bonds/"+bench.BondID(n/2)); err != nil {
		return errors.Join(fmt.Errorf("bench: the bare server does not answer what the service does: %w", err), b.stop(s), b.stop(bare))
	}
	err = b.paired(ctx, "bolt GET / bare GET",
		bench.Scenario{Name: nameGet, System: "bolt", Bonds: n, Targeter: (&bench.Targets{Base: s.URL, Bonds: n}).GetBond()},
		bench.Scenario{Name: nameGet, System: "bare", Bonds: n, Targeter: (&bench.Targets{Base: bare.URL, Bonds: n}).GetBond()},
		"req/s >= 0.85x", func(r, _ float64) bool { return r >= 0.85 })
	return errors.Join(err, b.stop(s), b.stop(bare))
}

// runBare measures the bare net/http server on GET /bonds/{id}.
func (b *bencher) runBare(ctx context.Context) error {
	s, err := b.startBare(ctx)
	if err != nil {
		return err
	}
	t := &bench.Targets{Base: s.URL, Bonds: b.cfg.Bonds}
	for _, sc := range []bench.Scenario{
		{Name: nameGet, Targeter: t.GetBond()},
		{Name: nameGet, Targeter: t.GetBond(), Rate: b.cfg.Rate},
	} {
		sc.System, sc.Bonds, sc.PID = "bare", b.cfg.Bonds, s.PID()
		if err := b.scenario(ctx, sc); err != nil {
			return err
		}
	}
	return b.stop(s)
}

// runBolt runs the scenarios on the bolt file of n bonds: all of them on
// the main data set, GET and list only for the scale sizes.
func (b *bencher) runBolt(ctx context.Context, d bench.Dataset, n int, full bool) error {
	s, err := b.startService(ctx, fmt.Sprintf("bolt-%d", n), "STORE=bolt", "BOLT_PATH="+b.boltPath(n))
	if err != nil {
		return err
	}
	t := &bench.Targets{Base: s.URL, Bonds: n, CostCenters: d.FullCostCenters(100),
		Prefix: fmt.Sprintf("P%d-", time.Now().UnixNano()%1e9)}
	scs := []bench.Scenario{{Name: nameGet, Targeter: t.GetBond()}, {Name: nameList, Targeter: t.ListPage()}}
	if full {
		scs = append(scs,
			bench.Scenario{Name: nameGet, Targeter: t.GetBond(), Rate: b.cfg.Rate},
			bench.Scenario{Name: namePost, Targeter: t.CreateBond()},
			bench.Scenario{Name: namePostK, Targeter: t.CreateBondKeyed()},
			bench.Scenario{Name: nameSub, Targeter: t.AddSubscriber()},
			bench.Scenario{Name: nameMixed, Targeter: t.Mixed()},
		)
	}
	for _, sc := range scs {
		sc.System, sc.Bonds, sc.PID = "bolt", n, s.PID()
		if err := b.scenario(ctx, sc); err != nil {
			return err
		}
	}
	if err := b.stop(s); err != nil {
		return err
	}
	if !full {
		return nil
	}
	// One extra line: the same GET with access logging off (LOG_LEVEL=warn).
	s, err = b.startService(ctx, "bolt-warn", "STORE=bolt", "BOLT_PATH="+b.boltPath(n), "LOG_LEVEL=warn")
	if err != nil {
		return err
	}
	t.Base = s.URL
	if err := b.scenario(ctx, bench.Scenario{Name: nameGetWrn, System: "bolt", Bonds: n, PID: s.PID(), Targeter: t.GetBond()}); err != nil {
		return err
	}
	return b.stop(s)
}

// runDynamo has `bond-registry migrate` create a table of its own on
// DynamoDB Local, loads the main data set through the service's API, runs
// the service scenarios, and deletes the table.
func (b *bencher) runDynamo(ctx context.Context, d bench.Dataset) (err error) {
	table := fmt.Sprintf("bench_%d", time.Now().UnixNano())
	env := []string{"STORE=dynamodb", "DYNAMODB_ENDPOINT=" + b.cfg.DynamoEndpoint, "DYNAMODB_TABLE=" + table}
	if err := b.migrate(ctx, env); err != nil {
		return err
	}
	defer func() {
		dctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		err = errors.Join(err, deleteTable(dctx, b.cfg.DynamoEndpoint, table))
	}()
	s, err := b.startService(ctx, "dynamodb", env...)
	if err != nil {
		return err
	}
	t0 := time.Now()
	if err := bench.Load(ctx, s.URL, d.Bonds, 32); err != nil {
		return fmt.Errorf("bench: load dynamodb: %w", err)
	}
	n := len(d.Bonds)
	b.logf("dynamodb: loaded %d bonds into %s in %.1fs", n, table, time.Since(t0).Seconds())

	t := &bench.Targets{Base: s.URL, Bonds: n, CostCenters: d.FullCostCenters(100),
		Prefix: fmt.Sprintf("D%d-", time.Now().UnixNano()%1e9)}
	for _, sc := range []bench.Scenario{
		{Name: nameGet, Targeter: t.GetBond()},
		{Name: nameList, Targeter: t.ListPage()},
		{Name: nameGet, Targeter: t.GetBond(), Rate: b.cfg.Rate},
		{Name: namePost, Targeter: t.CreateBond()},
		{Name: namePostK, Targeter: t.CreateBondKeyed()},
		{Name: nameSub, Targeter: t.AddSubscriber()},
		{Name: nameMixed, Targeter: t.Mixed()},
	} {
		sc.System, sc.Bonds, sc.PID = "dynamodb", n, s.PID()
		if err := b.scenario(ctx, sc); err != nil {
			return err
		}
	}
	// What a key costs a create (the read of its record, and its record in the create's
	// transaction), in alternating rounds on the same service and table.
	err = b.paired(ctx, "dynamodb keyed POST / unkeyed POST",
		bench.Scenario{Name: namePostK, System: "dynamodb", Bonds: n, Targeter: t.CreateBondKeyed()},
		bench.Scenario{Name: namePost, System: "dynamodb", Bonds: n, Targeter: t.CreateBond()}, "", nil)
	return errors.Join(err, b.stop(s))
}

// migrate runs `bond-registry migrate` with env: the service's own way of
// creating its table.
func (b *bencher) migrate(ctx context.Context, env []string) error {
	cmd := exec.CommandContext(ctx, b.cfg.Bin, "migrate")
	cmd.Env = append(append(os.Environ(), env...), "LOG_LEVEL=warn")
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("bench: %s migrate: %w: %s", b.cfg.Bin, err, out)
	}
	return nil
}

// ratios lists the side-by-side comparisons and their targets.
func (b *bencher) ratios() []bench.Ratio {
	rs, n := b.results, b.cfg.Bonds
	get := func(system, name string, bonds int, mode string) (bench.Result, bool) {
		return bench.Find(rs, system, name, bonds, mode)
	}
	cmp := func(label string, num, den []any, target string, check func(rps, p99 float64) bool) bench.Ratio {
		a, okA := get(num[0].(string), num[1].(string), num[2].(int), num[3].(string))
		d, okD := get(den[0].(string), den[1].(string), den[2].(int), den[3].(string))
		return bench.Compare(label, a, d, okA, okD, target, check)
	}
	p99Within := func(f float64) func(_, p99 float64) bool { return func(_, p99 float64) bool { return p99 <= f } }
	out := []bench.Ratio{
		cmp("bolt GET / bare GET", []any{"bolt", nameGet, n, "closed"}, []any{"bare", nameGet, n, "closed"},
			"req/s >= 0.85x", func(r, _ float64) bool { return r >= 0.85 }),
		cmp(fmt.Sprintf("bolt GET / bare GET @%d/s", b.cfg.Rate), []any{"bolt", nameGet, n, "rate"}, []any{"bare", nameGet, n, "rate"}, "", nil),
		cmp("dynamodb keyed POST / unkeyed POST", []any{"dynamodb", namePostK, n, "closed"}, []any{"dynamodb", namePost, n, "closed"}, "", nil),
		cmp("bolt GET info log / warn log", []any{"bolt", nameGet, n, "closed"}, []any{"bolt", nameGetWrn, n, "closed"}, "", nil),
	}
	if len(b.cfg.Scale) >= 2 {
		lo, hi := slices.Min(b.cfg.Scale), slices.Max(b.cfg.Scale)
		out = append(out,
			cmp(fmt.Sprintf("bolt GET %dk / %dk bonds", hi/1000, lo/1000), []any{"bolt", nameGet, hi, "closed"}, []any{"bolt", nameGet, lo, "closed"}, "", nil),
			cmp(fmt.Sprintf("bolt list page %dk / %dk bonds", hi/1000, lo/1000), []any{"bolt", nameList, hi, "closed"}, []any{"bolt", nameList, lo, "closed"},
				"p99 <= 1.5x", p99Within(1.5)),
		)
	}
	return out
}

func (b *bencher) report(w io.Writer, rep bench.Report) {
	fmt.Fprintf(w, "\nBond Registry bench: %d CPUs (%s), %s; %s per scenario after %s warm-up; closed loop %d clients; constant rate %d/s\n\n",
		rep.Machine.CPUs, rep.Machine.Model, rep.Machine.Go, b.cfg.Duration, b.cfg.Warmup, b.cfg.Clients, b.cfg.Rate)
	bench.PrintTable(w, rep.Results)
	fmt.Fprintln(w)
	bench.PrintRatios(w, rep.Ratios)
	peak := 0.0
	for _, r := range rep.Results {
		if r.System == "bolt" {
			peak = max(peak, r.PeakRSSMB)
		}
	}
	fmt.Fprintf(w, "check bolt peak RSS (max over scenarios):       %.1f MiB   target < 40 MiB: %s\n", peak, verdict(peak > 0 && peak < 40))
	fmt.Fprintf(w, "check start to /readyz 200 (bolt, %d bonds):  median %.1f ms (min %.1f, max %.1f, %d runs)   target < 100 ms: %s\n",
		rep.Startup.Bonds, rep.Startup.MedianMs, rep.Startup.MinMs, rep.Startup.MaxMs, rep.Startup.Runs, verdict(rep.Startup.TargetMet))
	keyed, ok := bench.Find(rep.Results, "dynamodb", namePostK, b.cfg.Bonds, "closed")
	if ok {
		fmt.Fprintf(w, "check %s (dynamodb) >= %.0f req/s (10x the original's %.0f/s): %.0f req/s: %s\n",
			namePostK, 10*originalCreateRPS, originalCreateRPS, keyed.RPS, verdict(keyed.RPS >= 10*originalCreateRPS))
	} else {
		fmt.Fprintf(w, "check %s (dynamodb) >= %.0f req/s (10x the original's %.0f/s): not measured (no DynamoDB endpoint)\n",
			namePostK, 10*originalCreateRPS, originalCreateRPS)
	}
	fmt.Fprintf(w, "binary size %s: %.1f MiB\n", b.cfg.Bin, rep.BinaryMiB)
	for _, n := range rep.Notes {
		fmt.Fprintln(w, "note:", n)
	}
	fmt.Fprintf(w, "results: %s, %s (%.0fs in all)\n", filepath.Join(b.cfg.Out, "results.json"), filepath.Join(b.cfg.Out, "latency.png"), rep.Seconds)
}

func verdict(ok bool) string {
	if ok {
		return "met"
	}
	return "MISSED"
}

// panels groups the results for the plot.
func (b *bencher) panels() []bench.Panel {
	n := b.cfg.Bonds
	return []bench.Panel{
		{Title: fmt.Sprintf("embedded store (bolt) vs bare net/http, %d bonds", n), Select: func(r bench.Result) bool {
			return (r.System == "bolt" || r.System == "bare") && r.Bonds == n
		}},
		{Title: fmt.Sprintf("DynamoDB Local: the service, %d bonds", n), Select: func(r bench.Result) bool {
			return r.System == "dynamodb"
		}},
		{Title: "scale: bolt GET and list page by table size", Select: func(r bench.Result) bool {
			return r.System == "bolt" && r.Mode == "closed" && (r.Name == nameGet || r.Name == nameList)
		}},
	}
}

// bareHandler is the bare server's handler on the bench's data set.
func bareHandler(cfg config) http.Handler {
	return bench.BareHandler(bench.Generate(cfg.Bonds, cfg.Seed))
}
