package boltstore_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bondregistry/bond-registry/internal/boltstore"
)

// stat is what a refused path must keep (the cmd tests compare its bytes
// too): its size, mode and mtime.
func stat(t *testing.T, path string) [3]any {
	t.Helper()
	info, err := os.Lstat(path)
	require.NoError(t, err)
	return [3]any{info.Size(), info.Mode(), info.ModTime()}
}

// A store is created only where nothing exists; every other path that is
// not a sound store file is refused with one line naming it and what to do,
// by Open and by Check alike, and keeps its bytes and mtime.
func TestOpen_RefusedPaths(t *testing.T) {
	for name, tc := range map[string]struct {
		setup   func(t *testing.T, dir string) (path, keep string)
		want    string
		damaged bool
	}{
		"empty file": {setup: func(t *testing.T, dir string) (string, string) {
			p := filepath.Join(dir, "bonds.db")
			require.NoError(t, os.WriteFile(p, nil, 0o600))
			return p, p
		}, want: "the file is empty", damaged: true},
		"directory": {setup: func(t *testing.T, dir string) (string, string) {
			return dir, dir
		}, want: "it is a directory: set BOLT_PATH to a file, such as " + filepath.Join("DIR", "bonds.db")},
		"parent is a file": {setup: func(t *testing.T, dir string) (string, string) {
			p := filepath.Join(dir, "file")
			require.NoError(t, os.WriteFile(p, []byte("not a directory"), 0o600))
			return filepath.Join(p, "bonds.db"), p
		}, want: "a part of the path before the file name is a file, not a directory"},
		"fifo": {setup: func(t *testing.T, dir string) (string, string) {
			p := filepath.Join(dir, "bonds.db")
			require.NoError(t, syscall.Mkfifo(p, 0o600))
			return p, p
		}, want: "it is not a regular file"},
		"not a bbolt file": {setup: func(t *testing.T, dir string) (string, string) {
			p := filepath.Join(dir, "bonds.db")
			require.NoError(t, os.WriteFile(p, []byte(strings.Repeat("x", 8192)), 0o600))
			return p, p
		}, want: "it is not a valid bbolt file", damaged: true},
	} {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			path, keep := tc.setup(t, dir)
			before := stat(t, keep)
			want := strings.ReplaceAll(tc.want, "DIR", dir)
			for op, open := range map[string]func() error{
				"Open": func() error {
					s, err := boltstore.Open(path)
					if err == nil {
						_ = s.Close()
					}
					return err
				},
				"Check": func() error { return boltstore.Check(path) },
			} {
				err := open()
				require.Error(t, err, op)
				assert.Contains(t, err.Error(), path, op)
				assert.Contains(t, err.Error(), want, op)
				assert.NotContains(t, err.Error(), "\n", op)
				assert.Equal(t, tc.damaged, errors.Is(err, boltstore.ErrDamaged), op)
				assert.Equal(t, before, stat(t, keep), "%s wrote nothing to the refused path", op)
			}
			_, err := os.Lstat(filepath.Join(keep, "bonds.db"))
			assert.Error(t, err, "nothing was created under the refused path")
		})
	}
}

// The one path Open creates a store at is one where nothing exists, its
// directories included.
func TestOpen_CreatesOnlyANewPath(t *testing.T) {
	path := filepath.Join(t.TempDir(), "a", "b", "bonds.db")
	s, err := boltstore.Open(path)
	require.NoError(t, err)
	require.NoError(t, s.Close())
	require.NoError(t, boltstore.Check(path))
	s, err = boltstore.Open(path) // and opens it again
	require.NoError(t, err)
	require.NoError(t, s.Close())
}
