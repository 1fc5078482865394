package main

import (
	"context"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	bolt "go.etcd.io/bbolt"

	"github.com/bondregistry/bond-registry/internal/boltstore"
)

// storeCommands are the commands that open the bolt store, with the
// arguments before the flags.
var storeCommands = map[string][]string{
	"serve":  {"serve"},
	"seed":   {"seed", "../../localdb/02-load-data.json"},
	"import": {"import", "../../localdb/02-load-data.json"},
	"export": {"export", "OUT"},
	"check":  {"check"},
}

// pathState is what a refused path must keep: its bytes, mode and mtime.
type pathState struct {
	data  string
	mode  os.FileMode
	mtime time.Time
}

func stateOf(t *testing.T, path string) pathState {
	t.Helper()
	info, err := os.Lstat(path)
	require.NoError(t, err)
	var data []byte
	if info.Mode().IsRegular() && info.Mode().Perm()&0o400 != 0 {
		data, err = os.ReadFile(path)
		require.NoError(t, err)
	}
	return pathState{string(data), info.Mode(), info.ModTime()}
}

// runOnStore runs one command of storeCommands on BOLT_PATH=path and
// returns its error. serve runs with a cancelled context, so that a store it
// wrongly accepted makes it return nil at once instead of serving.
func runOnStore(t *testing.T, cmd, path, out string) error {
	t.Helper()
	env := map[string]string{"BOLT_PATH": path, "PORT": strconv.Itoa(freePort(t))}
	args := append([]string{"bond-registry"}, storeCommands[cmd]...)
	for i, a := range args {
		if a == "OUT" {
			args[i] = out
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	return run(ctx, args, func(k string) string { return env[k] }, io.Discard, io.Discard)
}

// assertRefused checks that every command refuses path with one line naming
// it and saying want, and leaves keep (the path, or its file parent) as it
// was; export writes no file.
func assertRefused(t *testing.T, path, keep, want string, except ...string) {
	t.Helper()
	before := stateOf(t, keep)
	for cmd := range storeCommands {
		if strings.Contains(strings.Join(except, " "), cmd) {
			continue
		}
		out := filepath.Join(t.TempDir(), "export.ndjson")
		err := runOnStore(t, cmd, path, out)
		require.Error(t, err, cmd)
		msg := err.Error()
		assert.Contains(t, msg, path, cmd)
		assert.Contains(t, msg, want, cmd)
		assert.NotContains(t, msg, "\n", cmd)
		assert.Equal(t, before, stateOf(t, keep), "%s wrote nothing to the refused path", cmd)
		_, err = os.Stat(out)
		assert.ErrorIs(t, err, os.ErrNotExist, "%s: export wrote no file", cmd)
	}
}

// A zero-length BOLT_PATH (a failed copy or restore) is damaged, for serve
// as for check: it used to become a new, empty store, ready and accepting
// writes. A directory, a path under a file and a non-regular file each get
// their own line.
func TestStoreFile_Refused(t *testing.T) {
	for name, tc := range map[string]struct {
		setup func(t *testing.T, dir string) (path, keep string)
		want  string
	}{
		"empty file": {func(t *testing.T, dir string) (string, string) {
			p := filepath.Join(dir, "bonds.db")
			require.NoError(t, os.WriteFile(p, nil, 0o600))
			return p, p
		}, "the file is damaged: the file is empty (a failed copy or restore leaves one): restore it from a backup, or remove it to start an empty store"},
		"directory": {func(t *testing.T, dir string) (string, string) {
			return dir, dir
		}, "it is a directory: set BOLT_PATH to a file"},
		"parent is a file": {func(t *testing.T, dir string) (string, string) {
			p := filepath.Join(dir, "file")
			require.NoError(t, os.WriteFile(p, []byte("a file"), 0o600))
			return filepath.Join(p, "bonds.db"), p
		}, "a part of the path before the file name is a file, not a directory: set BOLT_PATH to a file in a directory"},
		"fifo": {func(t *testing.T, dir string) (string, string) {
			p := filepath.Join(dir, "bonds.db")
			require.NoError(t, syscall.Mkfifo(p, 0o600))
			return p, p
		}, "it is not a regular file"},
		"another program's bbolt file": {func(t *testing.T, dir string) (string, string) {
			p := filepath.Join(dir, "foreign.db")
			db, err := bolt.Open(p, 0o600, nil)
			require.NoError(t, err)
			require.NoError(t, db.Update(func(tx *bolt.Tx) error {
				b, err := tx.CreateBucket([]byte("widgets"))
				if err != nil {
					return err
				}
				return b.Put([]byte("w1"), []byte("a widget"))
			}))
			require.NoError(t, db.Close())
			return p, p
		}, `not a bond-registry store: it holds the buckets "widgets" but no meta/schema`},
	} {
		t.Run(name, func(t *testing.T) {
			path, keep := tc.setup(t, t.TempDir())
			assertRefused(t, path, keep, tc.want)
		})
	}
}

// confinedEnv names the directory a confined run of
// TestStoreFile_ReadOnlyAndPermissions works in; set only in that run.
const confinedEnv = "BOND_REGISTRY_CONFINED_DIR"

// A store file on a read-only filesystem, or one the process may not read
// or write, is refused by every command that writes, with its own line;
// check reads a read-only file. Root bypasses both, so the test runs itself
// again in a private mount namespace (unshare -m) where dir is a tmpfs
// remounted read-only, without the capabilities that override file
// permissions (setpriv). It skips, or fails under CI=true, when it cannot.
func TestStoreFile_ReadOnlyAndPermissions(t *testing.T) {
	if dir := os.Getenv(confinedEnv); dir != "" {
		confinedChecks(t, dir)
		return
	}
	for _, tool := range []string{"unshare", "setpriv", "mount"} {
		if _, err := exec.LookPath(tool); err != nil {
			skipOrFailCI(t, "%s is not installed: %v", tool, err)
		}
	}
	// A sound store, copied onto the read-only mount by the script.
	src := filepath.Join(t.TempDir(), "bonds.db")
	s, err := boltstore.Open(src)
	require.NoError(t, err)
	require.NoError(t, s.Close())

	dir := t.TempDir()
	ro := filepath.Join(dir, "ro")
	require.NoError(t, os.Mkdir(ro, 0o755))
	script := `set -e
mount -t tmpfs -o size=4m tmpfs "$1"
cp "$2" "$1/bonds.db"
: > "$1/empty.db"
mount -o remount,ro "$1"
shift 2
exec setpriv --bounding-set=-dac_override,-dac_read_search -- "$@"`
	cmd := exec.CommandContext(t.Context(), "unshare", "-m", "--propagation", "private", "sh", "-c", script, "sh", ro, src,
		os.Args[0], "-test.run=^TestStoreFile_ReadOnlyAndPermissions$", "-test.v", "-test.count=1")
	cmd.Env = append(os.Environ(), confinedEnv+"="+dir)
	out, err := cmd.CombinedOutput()
	if ee, ok := errors.AsType[*exec.ExitError](err); ok && !strings.Contains(string(out), "=== RUN") {
		skipOrFailCI(t, "cannot confine a run (%v): %s", ee, out)
	}
	t.Logf("confined run:\n%s", out)
	require.NoError(t, err, "the confined run failed")
	require.Contains(t, string(out), "--- PASS: TestStoreFile_ReadOnlyAndPermissions", "the confined run ran the checks")
}

// confinedChecks runs inside the confined process: dir/ro is a read-only
// tmpfs holding a sound store (bonds.db) and an empty file (empty.db).
func confinedChecks(t *testing.T, dir string) {
	store := filepath.Join(dir, "ro", "bonds.db")
	assertRefused(t, store, store, "it is on a read-only filesystem: mount it read-write, or set BOLT_PATH to a writable place",
		"check")
	var out strings.Builder
	env := map[string]string{"BOLT_PATH": store}
	require.NoError(t, run(context.Background(), []string{"bond-registry", "check"}, func(k string) string { return env[k] }, &out, io.Discard))
	assert.Equal(t, store+": ok\n", out.String(), "check reads a store on a read-only filesystem")
	assertRefused(t, filepath.Join(dir, "ro", "new", "bonds.db"), filepath.Join(dir, "ro"), "it is on a read-only filesystem", "check")
	assertRefused(t, filepath.Join(dir, "ro", "empty.db"), filepath.Join(dir, "ro", "empty.db"), "the file is empty")

	// Permissions: this process cannot override them.
	locked := filepath.Join(dir, "locked.db")
	require.NoError(t, os.WriteFile(locked, []byte("secret"), 0o600))
	require.NoError(t, os.Chmod(locked, 0))
	_, err := os.ReadFile(locked)
	require.ErrorIs(t, err, os.ErrPermission, "the confined process cannot read a file of mode 000")
	assertRefused(t, locked, locked, "permission denied: give the service's user read and write access to the file and its directory")
	readOnly := filepath.Join(dir, "readonly.db")
	s, err := boltstore.Open(readOnly)
	require.NoError(t, err)
	require.NoError(t, s.Close())
	require.NoError(t, os.Chmod(readOnly, 0o400))
	assertRefused(t, readOnly, readOnly, "permission denied", "check")
	closedDir := filepath.Join(dir, "closed")
	require.NoError(t, os.Mkdir(closedDir, 0))
	assertRefused(t, filepath.Join(closedDir, "bonds.db"), closedDir, "permission denied")
}

// skipOrFailCI skips t with one line, or fails it when CI=true.
func skipOrFailCI(t *testing.T, format string, args ...any) {
	t.Helper()
	if ci, _ := strconv.ParseBool(os.Getenv("CI")); ci {
		t.Fatalf(format+" [CI=true: not skipping]", args...)
	}
	t.Skipf(format, args...)
}
