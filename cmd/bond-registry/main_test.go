package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bondregistry/bond-registry/internal/config"
)

// freePort returns a TCP port that was free a moment ago.
func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// syncBuffer is a bytes.Buffer safe for the server's and the test's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// waitForReady polls url until it answers 200, or fails the test.
func waitForReady(t *testing.T, url string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		res, err := http.Get(url)
		if err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("%s did not answer 200 within 10s", url)
}

func TestRun_SeedServeHealthcheckShutdown(t *testing.T) {
	dir := t.TempDir()
	port := freePort(t)
	env := map[string]string{"PORT": strconv.Itoa(port), "BOLT_PATH": filepath.Join(dir, "bonds.db")}
	getenv := func(k string) string { return env[k] }

	var out syncBuffer
	require.NoError(t, run(context.Background(), []string{"bond-registry", "seed", "../../localdb/02-load-data.json"}, getenv, &out, io.Discard))
	assert.Contains(t, out.String(), `"created":25`)

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- run(ctx, []string{"bond-registry"}, getenv, &out, io.Discard) }()
	base := fmt.Sprintf("http://127.0.0.1:%d", port)
	waitForReady(t, base+"/readyz")

	req, _ := http.NewRequest(http.MethodGet, base+"/bonds/FOO", nil)
	req.Header.Set("Accept", "application/json")
	res, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	var got map[string]any
	require.NoError(t, json.NewDecoder(res.Body).Decode(&got))
	res.Body.Close()
	assert.Equal(t, http.StatusOK, res.StatusCode)
	assert.Equal(t, "TAPV54703350425479", got["host_account_id"])
	assert.Len(t, got["subscribers"], 3)

	require.NoError(t, run(context.Background(), []string{"bond-registry", "healthcheck"}, getenv, io.Discard, io.Discard))

	cancel()
	select {
	case err := <-done:
		require.NoError(t, err, "a clean shutdown returns nil")
	case <-time.After(15 * time.Second):
		t.Fatal("the server did not stop")
	}
	logs := out.String()
	assert.Contains(t, logs, `"message":"serving"`)
	assert.Regexp(t, `"log.level":"warn",[^\n]*"addr":"127.0.0.1:`+strconv.Itoa(port)+`"[^\n]*"message":"no API keys \(API_KEYS_FILE, API_KEYS\): serving local callers only`,
		logs, "no keys: loopback only")
	assert.Contains(t, logs, `"message":"stopped"`)
	assert.NotContains(t, logs, "mistymoore@yahoo.com", "no email in any log line")

	// The server is down now: the health check must fail.
	assert.Error(t, run(context.Background(), []string{"bond-registry", "healthcheck"}, getenv, io.Discard, io.Discard))
}

func TestRun_BadConfigIsOneClearLine(t *testing.T) {
	getenv := func(k string) string { return map[string]string{"REQUEST_TIMEOUT": "soon"}[k] }
	err := run(context.Background(), []string{"bond-registry", "serve"}, getenv, io.Discard, io.Discard)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "REQUEST_TIMEOUT")
	assert.NotContains(t, err.Error(), "\n")
}

func TestRun_Usage(t *testing.T) {
	getenv := func(string) string { return "" }
	assert.ErrorContains(t, run(context.Background(), []string{"bond-registry", "seed"}, getenv, io.Discard, io.Discard), "usage")
	assert.ErrorContains(t, run(context.Background(), []string{"bond-registry", "frobnicate"}, getenv, io.Discard, io.Discard), "unknown command")
	var out bytes.Buffer
	require.NoError(t, run(context.Background(), []string{"bond-registry", "version"}, getenv, &out, io.Discard))
	assert.Regexp(t, `^bond-registry dev, commit [^\n]+\n$`, out.String())
}

// TestNewLogger checks the ECS base fields of every JSON line, and that the
// console format keeps the level and message for people but not the fields
// that never change.
func TestNewLogger(t *testing.T) {
	var out bytes.Buffer
	log := newLogger(config.Config{LogLevel: zerolog.InfoLevel, LogFormat: "json"}, &out)
	log.Warn().Msg("hello")
	var line map[string]any
	require.NoError(t, json.Unmarshal(out.Bytes(), &line), "a JSON line: %s", out.String())
	assert.Equal(t, "warn", line["log.level"])
	assert.Equal(t, "hello", line["message"])
	assert.Equal(t, "bond-registry", line["service.name"])
	assert.Equal(t, version, line["service.version"])
	assert.NotEmpty(t, line["ecs.version"])
	ts, _ := line["@timestamp"].(string)
	parsed, err := time.Parse(time.RFC3339, ts)
	require.NoError(t, err, "@timestamp is RFC 3339: %q", ts)
	assert.True(t, strings.HasSuffix(ts, "Z"), "@timestamp is UTC: %q", ts)
	assert.WithinDuration(t, time.Now(), parsed, time.Minute)

	out.Reset()
	log = newLogger(config.Config{LogLevel: zerolog.InfoLevel, LogFormat: "console"}, &out)
	log.Info().Str("url.path", "/bonds").Msg("hello")
	assert.Contains(t, out.String(), "INF")
	assert.Contains(t, out.String(), "hello")
	assert.Contains(t, out.String(), "url.path=/bonds")
	assert.NotContains(t, out.String(), "ecs.version")
	assert.NotContains(t, out.String(), "{", "not JSON")
	assert.NotContains(t, out.String(), "\x1b[", "no colour codes into a buffer")

	// LOG_FORMAT=console wrote ANSI colour codes into a pipe.
	r, w, err := os.Pipe()
	require.NoError(t, err)
	log = newLogger(config.Config{LogLevel: zerolog.InfoLevel, LogFormat: "console"}, w)
	log.Info().Msg("piped")
	require.NoError(t, w.Close())
	piped, err := io.ReadAll(r)
	require.NoError(t, err)
	assert.Contains(t, string(piped), "piped")
	assert.NotContains(t, string(piped), "\x1b[", "no colour codes into a pipe")

	out.Reset()
	log = newLogger(config.Config{LogLevel: zerolog.WarnLevel, LogFormat: "json"}, &out)
	log.Info().Msg("hidden")
	assert.Empty(t, out.String(), "LOG_LEVEL=warn drops info lines")
}

// serve sets GOGC to serveGCPercent, unless the environment sets it.
func TestTuneGC(t *testing.T) {
	prev := debug.SetGCPercent(100)
	defer debug.SetGCPercent(prev)
	tuneGC(func(string) string { return "" })
	if got := debug.SetGCPercent(100); got != serveGCPercent {
		t.Errorf("GOGC unset: the collector's percent is %d, want %d", got, serveGCPercent)
	}
	tuneGC(func(name string) string {
		if name == "GOGC" {
			return "50"
		}
		return ""
	})
	if got := debug.SetGCPercent(100); got != 100 {
		t.Errorf("GOGC set: the percent was changed to %d", got)
	}
}
