// Command bond-registry is the Bond Registry service: a REST API over bonds,
// stored in an embedded bbolt file or in DynamoDB.
//
//	bond-registry [serve] [flags]      serve the API (the default)
//	bond-registry seed FILE [flags]    load bonds from a BatchWriteItem or NDJSON file (as import)
//	bond-registry import FILE [flags]  create the bonds of an NDJSON or BatchWriteItem file that the store lacks
//	bond-registry export [FILE] [flags] write every bond as NDJSON to FILE (stdout when absent or "-")
//	bond-registry migrate [flags]      create the DynamoDB table, backfill guard items
//	bond-registry healthcheck [flags]  exit 0 when the local /healthz answers 200
//	bond-registry check [flags]        verify the bolt store file; exit 1 when it is damaged
//	bond-registry keygen NAME SCOPES   print a new API key and its API_KEYS_FILE line
//	bond-registry version              print the release version and the commit
//
// Flags and environment variables are listed by `bond-registry -h` and in the
// README; every setting has both.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/debug"
	"strings"
	"syscall"

	"github.com/mattn/go-isatty"
	"github.com/rs/zerolog"
	"go.elastic.co/ecszerolog"

	"github.com/bondregistry/bond-registry/internal/apikey"
	"github.com/bondregistry/bond-registry/internal/boltstore"
	"github.com/bondregistry/bond-registry/internal/config"
	"github.com/bondregistry/bond-registry/internal/logbatch"
)

// version is the release version (the VERSION file), stamped in at build
// time: -ldflags "-X main.version=...". Unstamped builds say "dev".
var version = "dev"

// commit is the commit built, stamped in by make build (-X main.commit=...);
// empty: the Go toolchain's VCS stamp says, if there is one.
var commit = ""

// ecsLogger is the Elastic Common Schema logger every logger of the process
// derives from: ecszerolog.New sets zerolog's process-wide field names
// (@timestamp in UTC, log.level, message, error.message, error.stack_trace)
// and adds ecs.version. It is built once, at package initialisation, so that
// those settings are made before any line is logged and never again (setting
// them while lines are written would be a data race).
var ecsLogger = newECSLogger()

// timeFormat is the layout of @timestamp (and of any time field): RFC 3339
// in UTC with exactly three fraction digits, so that every line has the same
// width and lines sort as text. ecszerolog's own layout (".999") drops
// trailing zeros: 2026-12-01T21:52:00.25Z, and 00.000 as no fraction at all.
const timeFormat = "2006-01-02T15:04:05.000Z07:00"

// newECSLogger is ecszerolog.New with timeFormat in place of its layout.
func newECSLogger() zerolog.Logger {
	l := ecszerolog.New(io.Discard)
	zerolog.TimeFieldFormat = timeFormat
	return l
}

// serviceName is the ECS service.name of every log line (also the
// container_name in docker-compose.yml).
const serviceName = "bond-registry"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args, os.Getenv, os.Stdout, os.Stderr)
	stop()
	if err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "bond-registry:", err)
		}
		os.Exit(1)
	}
}

// run is the whole program, with its dependencies as arguments so that tests
// can run it in-process.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	cmd, rest := "serve", args[1:]
	if len(rest) > 0 && len(rest[0]) > 0 && rest[0][0] != '-' {
		cmd, rest = rest[0], rest[1:]
	}
	if cmd == "version" {
		_, err := fmt.Fprintln(stdout, versionLine(debug.ReadBuildInfo()))
		return err
	}
	if cmd == "keygen" {
		return keygen(rest, stdout, stderr)
	}
	// seed, import and export take a file among their flags, before or
	// after them.
	operands := 0
	if cmd == "seed" || cmd == "import" || cmd == "export" {
		operands = 1
	}
	cfg, files, err := config.LoadOperands(rest, getenv, stderr, operands)
	if err != nil {
		return err
	}
	var file string
	if len(files) > 0 {
		file = files[0]
	}
	if (cmd == "seed" || cmd == "import") && file == "" {
		return fmt.Errorf("usage: bond-registry %s FILE [flags]", cmd)
	}
	log := newLogger(cfg, stdout)
	switch cmd {
	case "serve":
		if err := cfg.CheckBind(); err != nil {
			return err
		}
		tuneGC(getenv)
		if cfg.LogFormat != "console" {
			// JSON lines go out in batches under load (package logbatch):
			// one write system call per batch instead of per request.
			lines := logbatch.New(stdout)
			defer func() { _ = lines.Close() }() // the output's errors are zerolog's to report, line by line
			log = newLogger(cfg, lines)
		}
		return serve(ctx, cfg, log)
	case "seed", "import":
		return importFile(ctx, cfg, log, cmd, file)
	case "export":
		// stdout may be the export itself: log lines go to stderr.
		return exportFile(ctx, cfg, newLogger(cfg, stderr), file, stdout)
	case "migrate":
		return migrate(ctx, cfg, log)
	case "healthcheck":
		return healthcheck(ctx, cfg)
	case "check":
		return checkStore(cfg, stdout)
	}
	return fmt.Errorf("unknown command %q: want serve, seed, import, export, migrate, healthcheck, check, keygen or version", cmd)
}

// keygen prints a new API key on the first line of stdout and its line for
// API_KEYS_FILE (or API_KEYS) on the second; the key is shown only here.
func keygen(args []string, stdout, stderr io.Writer) error {
	if len(args) != 2 {
		return fmt.Errorf("usage: bond-registry keygen NAME SCOPES (SCOPES: %s, comma-separated)", strings.Join(apikey.Scopes, ","))
	}
	scopes, err := apikey.ParseScopes(args[1])
	if err != nil {
		return fmt.Errorf("keygen: %w", err)
	}
	key, k, err := apikey.Generate(args[0], scopes)
	if err != nil {
		return fmt.Errorf("keygen: %w", err)
	}
	fmt.Fprintln(stderr, "# line 1: the key, for the client (shown once, keep it secret); line 2: its line for API_KEYS_FILE")
	_, err = fmt.Fprintf(stdout, "%s\n%s\n", key, k.Line())
	return err
}

// checkStore verifies the bolt store file (boltstore.Check) and reports it
// in one line; the error makes the command exit 1.
func checkStore(cfg config.Config, stdout io.Writer) error {
	if cfg.Store != config.StoreBolt {
		return fmt.Errorf("check: verifies the bolt store file; STORE is %s", cfg.Store)
	}
	if err := boltstore.Check(cfg.BoltPath); err != nil {
		return fmt.Errorf("check: %w", err)
	}
	_, err := fmt.Fprintf(stdout, "%s: ok\n", cfg.BoltPath)
	return err
}

// serveGCPercent is the collector's GOGC while serving, unless the
// environment sets GOGC: the live heap of the service is small (about
// 10 MB), so at Go's default of 100 it collects many times a second under
// load, and collection was about a tenth of a GET's CPU; at 200 the heap
// may grow to three times what is live between collections instead of
// twice (docs/performance.md). GOMEMLIMIT, when set, bounds it as usual.
const serveGCPercent = 200

// tuneGC sets GOGC to serveGCPercent unless getenv says GOGC.
func tuneGC(getenv func(string) string) {
	if getenv("GOGC") == "" {
		debug.SetGCPercent(serveGCPercent)
	}
}

// newLogger returns the one logger of the process: ECS JSON lines on stdout
// (ecs.version, @timestamp, log.level, message, service.name,
// service.version, then the line's own fields), or, with LOG_FORMAT=console,
// the same lines formatted for people, without the fields that never change,
// in colour only when stdout is a terminal (a pipe or a file gets no ANSI
// escape codes).
func newLogger(cfg config.Config, stdout io.Writer) zerolog.Logger {
	w := stdout
	if cfg.LogFormat == "console" {
		w = zerolog.ConsoleWriter{Out: stdout, TimeFormat: "15:04:05.000", NoColor: !isTerminal(stdout),
			FieldsExclude: []string{"ecs.version", "service.name", "service.version"}}
	}
	return ecsLogger.Output(w).Level(cfg.LogLevel).With().
		Str("service.name", serviceName).
		Str("service.version", version).
		Logger()
}

// isTerminal reports whether w is a file that is a terminal.
func isTerminal(w io.Writer) bool {
	f, ok := w.(interface{ Fd() uintptr })
	return ok && (isatty.IsTerminal(f.Fd()) || isatty.IsCygwinTerminal(f.Fd()))
}

// versionLine is what `bond-registry version` prints: the release version and
// the commit it was built from: the commit stamp of make build, else the Go
// toolchain's VCS stamp (vcs.revision, vcs.modified: a build with
// uncommitted changes says so). A build with neither (go build outside a
// git checkout, or with -buildvcs=false) says "commit unknown".
func versionLine(info *debug.BuildInfo, ok bool) string {
	if commit != "" {
		return "bond-registry " + version + ", commit " + commit
	}
	commit, modified := "unknown", false
	if ok {
		for _, s := range info.Settings {
			switch s.Key {
			case "vcs.revision":
				commit = s.Value
			case "vcs.modified":
				modified = s.Value == "true"
			}
		}
	}
	line := "bond-registry " + version + ", commit " + commit
	if modified {
		line += " (modified)"
	}
	return line
}
