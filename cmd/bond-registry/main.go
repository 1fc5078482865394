// Command bond-registry is the Bond Registry service: a REST API over bonds,
// stored in an embedded bbolt file or in DynamoDB.
//
//	bond-registry [serve] [flags]      serve the API (the default)
//	bond-registry seed FILE [flags]    load bonds from a BatchWriteItem JSON file
//	bond-registry migrate [flags]      create the DynamoDB table, backfill guard items
//	bond-registry healthcheck [flags]  exit 0 when the local /healthz answers 200
//	bond-registry version              print the version
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
	"syscall"
	"time"

	"github.com/rs/zerolog"

	"github.com/bondregistry/bond-registry/internal/config"
)

// version is stamped in at build time: -ldflags "-X main.version=...".
var version = "dev"

func main() {
	// Milliseconds in every log timestamp, for ordering lines in Kibana. A
	// process-wide setting of zerolog's, so it is made here and nowhere else.
	zerolog.TimeFieldFormat = time.RFC3339Nano
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
		_, err := fmt.Fprintln(stdout, version)
		return err
	}
	var file string
	if cmd == "seed" {
		if len(rest) == 0 || len(rest[0]) == 0 || rest[0][0] == '-' {
			return errors.New("usage: bond-registry seed FILE [flags]")
		}
		file, rest = rest[0], rest[1:]
	}
	cfg, err := config.Load(rest, getenv, stderr)
	if err != nil {
		return err
	}
	log := newLogger(cfg, stdout)
	switch cmd {
	case "serve":
		return serve(ctx, cfg, log)
	case "seed":
		return seedFile(ctx, cfg, log, file)
	case "migrate":
		return migrate(ctx, cfg, log)
	case "healthcheck":
		return healthcheck(ctx, cfg)
	}
	return fmt.Errorf("unknown command %q: want serve, seed, migrate, healthcheck or version", cmd)
}

// newLogger returns the one logger of the process: JSON lines on stdout, or a
// coloured console format for people.
func newLogger(cfg config.Config, stdout io.Writer) zerolog.Logger {
	w := stdout
	if cfg.LogFormat == "console" {
		w = zerolog.ConsoleWriter{Out: stdout, TimeFormat: "15:04:05.000"}
	}
	return zerolog.New(w).Level(cfg.LogLevel).With().Timestamp().Logger()
}
