package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bondregistry/bond-registry/internal/boltstore"
	"github.com/bondregistry/bond-registry/internal/bond"
	"github.com/bondregistry/bond-registry/internal/config"
)

// envRunMain makes the test binary run main() instead of the tests, so that
// a test can start the real program as a child process.
const envRunMain = "BOND_REGISTRY_TEST_RUN_MAIN"

func TestMain(m *testing.M) {
	if os.Getenv(envRunMain) == "1" {
		os.Args = append([]string{"bond-registry"}, strings.Fields(os.Getenv(envRunMain+"_ARGS"))...)
		main()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// child returns the command that runs the program with args and env.
func child(args string, env ...string) *exec.Cmd {
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), append(env, envRunMain+"=1", envRunMain+"_ARGS="+args)...)
	return cmd
}

// filledFile writes 300 bonds of 40 subscribers each (about 1 MB) to a new
// store file and returns its path, closed.
func filledFile(t *testing.T) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "bonds.db")
	s, err := boltstore.Open(path)
	require.NoError(t, err)
	for i := range 300 {
		b := bond.Bond{BondID: fmt.Sprintf("B%04d", i), HostAccountID: fmt.Sprintf("H%04d", i), SubAccountID: "S",
			HostCostCenter: "c", SubCostCenter: "d", Subscribers: map[string]bond.Subscriber{}}
		for j := range 40 {
			sid := fmt.Sprintf("s%02d", j)
			b.Subscribers[sid] = bond.Subscriber{SID: sid, Name: "N " + sid, Email: sid + "@example.com"}
		}
		_, err := bond.Create(t.Context(), s, b)
		require.NoError(t, err)
	}
	require.NoError(t, s.Close())
	return path
}

// A bbolt file truncated to half its size opened, /readyz said
// 200, and the first full listing killed the process with SIGBUS. The real
// program, as a child process, now refuses to start, in one line, and
// `bond-registry check` exits 1.
func TestServe_TruncatedStoreIsRefused(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the program as a child process; skipped with -short")
	}
	path := filledFile(t)
	port := freePort(t)
	env := []string{"BOLT_PATH=" + path, "PORT=" + strconv.Itoa(port), "LOG_LEVEL=warn"}

	out, err := child("check", env...).CombinedOutput()
	require.NoError(t, err, "a sound file: %s", out)
	assert.Contains(t, string(out), ": ok")

	info, err := os.Stat(path)
	require.NoError(t, err)
	require.NoError(t, os.Truncate(path, info.Size()/2))

	out, err = child("check", env...).CombinedOutput()
	require.Error(t, err, "check exits non-zero on damage: %s", out)
	assert.Contains(t, string(out), "damaged")

	serve := child("serve", env...)
	var stderr bytes.Buffer
	serve.Stderr = &stderr
	require.NoError(t, serve.Start())
	done := make(chan error, 1)
	go func() { done <- serve.Wait() }()
	select {
	case err := <-done:
		require.Error(t, err, "serve exits non-zero")
		assert.Equal(t, 1, serve.ProcessState.ExitCode(), "an error exit, not a signal")
		lines := strings.Split(strings.TrimSpace(stderr.String()), "\n")
		require.Len(t, lines, 1, "one clear line: %s", stderr.String())
		assert.Contains(t, lines[0], "damaged")
		assert.Contains(t, lines[0], "truncated")
	case <-time.After(10 * time.Second):
		// The old behaviour: it serves. Show what a full listing does.
		res, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d/bonds?limit=1000", port))
		if err == nil {
			res.Body.Close()
		}
		_ = serve.Process.Kill()
		t.Fatalf("serve started on a truncated file (listing: %v)", err)
	}
	after, err := os.Stat(path)
	require.NoError(t, err)
	assert.Equal(t, info.Size()/2, after.Size(), "nothing was written to the damaged file")
}

func TestRun_Keygen(t *testing.T) {
	var out, errOut bytes.Buffer
	getenv := func(string) string { return "" }
	require.NoError(t, run(context.Background(), []string{"bond-registry", "keygen", "ci", "bonds:read,bonds:write"}, getenv, &out, &errOut))
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	require.Len(t, lines, 2)
	key, line := lines[0], lines[1]
	sum := sha256.Sum256([]byte(key))
	assert.Equal(t, "ci bonds:read,bonds:write "+hex.EncodeToString(sum[:]), line)
	assert.Contains(t, errOut.String(), "keep it secret")

	// The line configures the key: API_KEYS takes it as it is.
	cfg, err := config.Load(nil, func(k string) string { return map[string]string{"API_KEYS": line}[k] }, io.Discard)
	require.NoError(t, err)
	k, ok := cfg.APIKeys.Lookup(key)
	require.True(t, ok)
	assert.Equal(t, "ci", k.Name)

	for _, args := range [][]string{{"ci"}, {"ci", "bonds:admin"}, {"c i", "bonds:read"}, {"ci", "bonds:read", "x"}} {
		err := run(context.Background(), append([]string{"bond-registry", "keygen"}, args...), getenv, io.Discard, io.Discard)
		assert.Error(t, err, "%v", args)
	}
}

// The bind is HOST and PORT, whatever the keys: keys never widen it, and
// without keys config refuses a HOST beyond loopback unless
// ALLOW_UNAUTHENTICATED. Each case says who can reach the service in one
// warning line (or none: keys and a wide HOST chosen on purpose).
func TestListenAddr(t *testing.T) {
	load := func(env map[string]string) config.Config {
		cfg, err := config.Load(nil, func(k string) string { return env[k] }, io.Discard)
		require.NoError(t, err)
		return cfg
	}
	keys := "ci bonds:read " + strings.Repeat("ab", 32)
	for _, tc := range []struct {
		env    map[string]string
		addr   string
		notice string
	}{
		{nil, "127.0.0.1:5000", "no API keys (API_KEYS_FILE, API_KEYS): serving local callers only"},
		{map[string]string{"ALLOW_UNAUTHENTICATED": "true"}, "127.0.0.1:5000", "ALLOW_UNAUTHENTICATED=true changes nothing until HOST is set wider"},
		{map[string]string{"API_KEYS": keys}, "127.0.0.1:5000", "keys do not widen the bind; set HOST=0.0.0.0"},
		{map[string]string{"API_KEYS": keys, "HOST": "0.0.0.0"}, "0.0.0.0:5000", ""},
		{map[string]string{"API_KEYS": keys, "HOST": "::"}, "[::]:5000", ""},
		{map[string]string{"ALLOW_UNAUTHENTICATED": "true", "HOST": "0.0.0.0"}, "0.0.0.0:5000", "anyone who reaches the port and sends Host: localhost"},
		{map[string]string{"HOST": "[::1]", "PORT": "5001"}, "[::1]:5001", "serving local callers only"},
		{map[string]string{"HOST": "localhost"}, "localhost:5000", "serving local callers only"},
	} {
		cfg := load(tc.env)
		assert.Equal(t, tc.addr, listenAddr(cfg), "%v", tc.env)
		if tc.notice == "" {
			assert.Empty(t, bindNotice(cfg), "%v", tc.env)
		} else {
			assert.Contains(t, bindNotice(cfg), tc.notice, "%v", tc.env)
		}
	}
	for _, env := range []map[string]string{{"HOST": "0.0.0.0"}, {"HOST": "::"}, {"HOST": "10.0.0.5"}} {
		cfg, err := config.Load(nil, func(k string) string { return env[k] }, io.Discard)
		require.NoError(t, err, "%v: the commands that do not listen take it", env)
		err = cfg.CheckBind()
		require.Error(t, err, "%v", env)
		assert.Contains(t, err.Error(), "without API keys the service serves local callers only")
	}
	// serve refuses it; migrate (which listens on nothing) goes on to its
	// own work, as the compose stack's one-shot migrate does with the
	// image's HOST=0.0.0.0.
	var out bytes.Buffer
	env := map[string]string{"HOST": "0.0.0.0", "BOLT_PATH": filepath.Join(t.TempDir(), "b.db")}
	err := run(t.Context(), []string{"bond-registry", "serve"}, func(k string) string { return env[k] }, &out, &out)
	assert.ErrorContains(t, err, "without API keys the service serves local callers only")
	err = run(t.Context(), []string{"bond-registry", "check"}, func(k string) string { return env[k] }, &out, &out)
	assert.NotContains(t, fmt.Sprint(err), "HOST", "check does not listen")
	_, err = config.Load(nil, func(k string) string { return map[string]string{"HOST": "example.com"}[k] }, io.Discard)
	assert.ErrorContains(t, err, `config: HOST="example.com": must be an IP address`)
}

// With keys, the real server asks for them; the header cap answers a JSON
// 431 up to twice MAX_HEADER_BYTES, and net/http its own plain-text 431
// past that.
func TestServe_KeysAndHeaderCap(t *testing.T) {
	var keyOut bytes.Buffer
	getenv0 := func(string) string { return "" }
	require.NoError(t, run(context.Background(), []string{"bond-registry", "keygen", "reader", "bonds:read"}, getenv0, &keyOut, io.Discard))
	lines := strings.Split(strings.TrimSpace(keyOut.String()), "\n")
	key, line := lines[0], lines[1]

	port := freePort(t)
	env := map[string]string{"PORT": strconv.Itoa(port), "BOLT_PATH": filepath.Join(t.TempDir(), "bonds.db"),
		"API_KEYS": line, "MAX_HEADER_BYTES": "4096"}
	var logs syncBuffer
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"bond-registry"}, func(k string) string { return env[k] }, &logs, io.Discard)
	}()
	t.Cleanup(func() {
		cancel()
		assert.NoError(t, <-done)
	})
	base := fmt.Sprintf("http://127.0.0.1:%d", port)
	waitForReady(t, base+"/readyz")

	get := func(h map[string]string) (*http.Response, string) {
		req, err := http.NewRequest(http.MethodGet, base+"/bonds", nil)
		require.NoError(t, err)
		for k, v := range h {
			req.Header.Set(k, v)
		}
		res, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		defer res.Body.Close()
		body, _ := io.ReadAll(res.Body)
		return res, string(body)
	}
	res, _ := get(nil)
	assert.Equal(t, http.StatusUnauthorized, res.StatusCode)
	res, _ = get(map[string]string{"Authorization": "Bearer " + key})
	assert.Equal(t, http.StatusOK, res.StatusCode)

	res, body := get(map[string]string{"X-Big": strings.Repeat("a", 6000)})
	assert.Equal(t, http.StatusRequestHeaderFieldsTooLarge, res.StatusCode)
	assert.Equal(t, "application/json", res.Header.Get("Content-Type"))
	assert.Contains(t, body, `"detail"`)
	res, body = get(map[string]string{"X-Big": strings.Repeat("a", 20000)})
	assert.Equal(t, http.StatusRequestHeaderFieldsTooLarge, res.StatusCode)
	t.Logf("past twice the cap, net/http answers %q: %q", res.Header.Get("Content-Type"), body)

	assert.NotContains(t, logs.String(), "loopback only", "keys are set: no warning")
	// Access lines go out in batches (package logbatch): wait for the
	// keyed request's.
	for end := time.Now().Add(5 * time.Second); !strings.Contains(logs.String(), `"user.name":"reader"`) && time.Now().Before(end); {
		time.Sleep(10 * time.Millisecond)
	}
	var access int
	sc := bufio.NewScanner(strings.NewReader(logs.String()))
	for sc.Scan() {
		if strings.Contains(sc.Text(), `"user.name":"reader"`) {
			access++
		}
		assert.NotContains(t, sc.Text(), key)
	}
	assert.Equal(t, 1, access, "the access line of the keyed request names the key")
}
