package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/rs/zerolog"

	"github.com/bondregistry/bond-registry/internal/bond"
	"github.com/bondregistry/bond-registry/internal/config"
	"github.com/bondregistry/bond-registry/internal/transfer"
)

// importFile creates the bonds of an NDJSON or BatchWriteItem file ("-":
// stdin) that the store lacks (transfer.Import), for the commands import and
// seed. It logs each skipped and each refused line, then a summary; a
// refused line makes it fail, naming the first one.
func importFile(ctx context.Context, cfg config.Config, log zerolog.Logger, cmd, path string) (err error) {
	in := io.Reader(os.Stdin)
	if path != "-" {
		f, err := os.Open(path)
		if err != nil {
			return fmt.Errorf("%s: %w", cmd, err)
		}
		defer f.Close()
		in = f
	}
	repo, err := openStore(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer func() {
		if cerr := repo.Close(); err == nil && cerr != nil {
			err = fmt.Errorf("%s %s: %w", cmd, path, cerr)
		}
	}()
	actor := bond.ImportActor
	if cmd == "seed" {
		actor = bond.SeedActor
	}
	rep, err := transfer.Import(bond.WithAudit(ctx, actor, ""), repo, in)
	for _, s := range rep.Skipped {
		log.Info().Str("file", path).Int("line", s.Line).Str("bond_id", s.BondID).Str("reason", s.Reason).Msg("skipped")
	}
	for _, r := range rep.Refused {
		log.Error().Str("file", path).Int("line", r.Line).Str("error.message", r.Error()).Msg("refused")
	}
	if err != nil {
		return fmt.Errorf("%s %s: %w", cmd, path, err)
	}
	log.Info().Str("file", path).Str("format", rep.Format).Str("store", cfg.Store).Int("created", rep.Created).
		Int("skipped", len(rep.Skipped)).Int("refused", len(rep.Refused)).Msg(cmd + "ed")
	switch n := len(rep.Refused); {
	case n == 1:
		return fmt.Errorf("%s %s: %w", cmd, path, rep.Refused[0])
	case n > 1:
		return fmt.Errorf("%s %s: %w (and %d more lines refused, each logged)", cmd, path, rep.Refused[0], n-1)
	}
	return nil
}

// exportFile writes every bond of the store as NDJSON (transfer.Export) to
// path, or to stdout when path is "" or "-". A file is written under a
// temporary name beside it and renamed into place once complete, so a failed
// export leaves no partial file.
func exportFile(ctx context.Context, cfg config.Config, log zerolog.Logger, path string, stdout io.Writer) (err error) {
	repo, err := openStore(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer func() {
		if cerr := repo.Close(); err == nil && cerr != nil {
			err = fmt.Errorf("export: %w", cerr)
		}
	}()
	if path == "" || path == "-" {
		n, err := transfer.Export(ctx, repo, stdout)
		log.Info().Str("store", cfg.Store).Int("bonds", n).Msg("exported")
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return fmt.Errorf("export: %w", err)
	}
	defer os.Remove(tmp.Name()) // after the rename, nothing to remove
	n, err := transfer.Export(ctx, repo, tmp)
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	if err != nil {
		return fmt.Errorf("export %s: %w", path, err)
	}
	log.Info().Str("file", path).Str("store", cfg.Store).Int("bonds", n).Msg("exported")
	return nil
}
