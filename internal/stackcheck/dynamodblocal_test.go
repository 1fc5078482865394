package stackcheck_test

import (
	"bytes"
	"errors"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// scriptCopy copies scripts/dynamodb-local.sh and its lib.sh into a
// temporary tree, so that its PID and endpoint files (in that tree's
// .cache) are the test's own, never those of an instance someone else runs
// from the worktree. It returns the copy's path.
func scriptCopy(t *testing.T) (script, root string) {
	t.Helper()
	src, root := repoRoot(t), t.TempDir()
	require.NoError(t, os.MkdirAll(filepath.Join(root, "scripts"), 0o755))
	for _, f := range []string{"dynamodb-local.sh", "lib.sh"} {
		b, err := os.ReadFile(filepath.Join(src, "scripts", f))
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(filepath.Join(root, "scripts", f), b, 0o755))
	}
	return filepath.Join(root, "scripts", "dynamodb-local.sh"), root
}

// runScript runs the script with extra environment and returns its exit
// code, stdout and stderr.
func runScript(t *testing.T, script string, env []string, args ...string) (int, string, string) {
	t.Helper()
	cmd := exec.Command("bash", append([]string{script}, args...)...)
	cmd.Env = append(os.Environ(), env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	var exit *exec.ExitError
	if err != nil && !errors.As(err, &exit) {
		t.Fatalf("run %s: %v", script, err)
	}
	return cmd.ProcessState.ExitCode(), stdout.String(), stderr.String()
}

// A port asked for with DYNAMODB_LOCAL_PORT that is taken is one line on
// stderr saying so and how to choose another; nothing on stdout, exit 1,
// and nothing else started.
func TestDynamoDBLocal_TakenPortIsOneLine(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	port := ln.Addr().(*net.TCPAddr).Port
	script, _ := scriptCopy(t)

	code, stdout, stderr := runScript(t, script, []string{"DYNAMODB_LOCAL_PORT=" + strconv.Itoa(port)}, "start")
	assert.Equal(t, 1, code)
	assert.Empty(t, stdout)
	assert.Equal(t, 1, strings.Count(stderr, "\n"), "one line: %q", stderr)
	assert.Contains(t, stderr, "port "+strconv.Itoa(port)+" (DYNAMODB_LOCAL_PORT) is taken")
	assert.Contains(t, stderr, "DYNAMODB_LOCAL_PORT="+strconv.Itoa(port+1)+" scripts/dynamodb-local.sh start")

	code, _, stderr = runScript(t, script, []string{"DYNAMODB_LOCAL_PORT=eight"}, "start")
	assert.Equal(t, 1, code)
	assert.Contains(t, stderr, "DYNAMODB_LOCAL_PORT=eight is not a port number")
}

// With 8000 taken and no DYNAMODB_LOCAL_PORT, start serves on another port,
// says so on stderr, and prints that endpoint as the only line of stdout,
// for export DYNAMODB_ENDPOINT=$(scripts/dynamodb-local.sh start). It needs
// Java and the jar that scripts/dynamodb-local.sh install fetched (make test
// has); without them it skips, except in CI.
func TestDynamoDBLocal_StartPrintsTheEndpointOnly(t *testing.T) {
	installed := filepath.Join(repoRoot(t), ".cache", "dynamodb-local")
	if _, err := os.Stat(filepath.Join(installed, "node_modules/amplify-dynamodb-simulator/emulator/DynamoDBLocal.jar")); err != nil {
		skipOrFail(t, "DynamoDB Local is not installed (scripts/dynamodb-local.sh install)")
	}
	if _, err := exec.LookPath("java"); err != nil {
		skipOrFail(t, "no java in PATH")
	}
	script, root := scriptCopy(t)
	require.NoError(t, os.MkdirAll(filepath.Join(root, ".cache"), 0o755))
	require.NoError(t, os.Symlink(installed, filepath.Join(root, ".cache", "dynamodb-local")))
	if ln, err := net.Listen("tcp", "127.0.0.1:8000"); err == nil { // else someone holds it already
		defer ln.Close()
	}
	t.Cleanup(func() { runScript(t, script, nil, "stop") })

	code, stdout, stderr := runScript(t, script, []string{"DYNAMODB_LOCAL_PORT="}, "start")
	require.Equal(t, 0, code, stderr)
	endpoint := strings.TrimSuffix(stdout, "\n")
	assert.Regexp(t, `^http://127\.0\.0\.1:[0-9]+$`, endpoint, "stdout is the endpoint alone: %q", stdout)
	assert.NotEqual(t, "http://127.0.0.1:8000", endpoint)
	assert.Contains(t, stderr, "port 8000 is taken: serving on "+strings.TrimPrefix(endpoint, "http://127.0.0.1:"))
	res, err := http.Get(endpoint)
	require.NoError(t, err)
	res.Body.Close()

	// A second start finds it running and prints the same line.
	code, again, _ := runScript(t, script, nil, "start")
	assert.Equal(t, 0, code)
	assert.Equal(t, stdout, again)
	code, _, stderr = runScript(t, script, []string{"DYNAMODB_LOCAL_PORT=1"}, "start")
	assert.Equal(t, 1, code)
	assert.Contains(t, stderr, "already runs at "+endpoint+", not on DYNAMODB_LOCAL_PORT=1")
}

// skipOrFail skips t with msg, or fails it when CI is set.
func skipOrFail(t *testing.T, msg string) {
	t.Helper()
	if ci, _ := strconv.ParseBool(os.Getenv("CI")); ci {
		t.Fatal(msg + " [CI=true: not skipping]")
	}
	t.Skip(msg)
}
