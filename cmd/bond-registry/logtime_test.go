package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/smithy-go/logging"
	"github.com/rs/zerolog"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bondregistry/bond-registry/internal/config"
)

// ecsTimestamp is @timestamp as docs/operations.md ("Logs") gives it: UTC, exactly three
// fraction digits.
var ecsTimestamp = regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$`)

// checkTimestamps asserts that every line of logs is JSON with an
// @timestamp of ecsTimestamp's form, and returns the number of lines.
func checkTimestamps(t *testing.T, logs string) int {
	t.Helper()
	n := 0
	sc := bufio.NewScanner(strings.NewReader(logs))
	for sc.Scan() {
		n++
		var line map[string]any
		require.NoError(t, json.Unmarshal(sc.Bytes(), &line), "a JSON line: %s", sc.Text())
		ts, _ := line["@timestamp"].(string)
		assert.Regexp(t, ecsTimestamp, ts, "line %d: %s", n, sc.Text())
	}
	return n
}

// The attacker found about one line in ten with 0-2 fraction digits
// (2026-12-01T21:52:00.25Z): ecszerolog's layout trims trailing zeros. A
// burst of lines of every kind (start-up, access, the AWS SDK's, shutdown)
// must all have three digits; at one line in ten, 400 lines all pass by
// chance with a probability of 1e-18.
func TestLogTimestamps(t *testing.T) {
	t.Run("burst", func(t *testing.T) {
		port := freePort(t)
		env := map[string]string{"PORT": strconv.Itoa(port), "BOLT_PATH": filepath.Join(t.TempDir(), "bonds.db")}
		getenv := func(k string) string { return env[k] }
		var out syncBuffer
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- run(ctx, []string{"bond-registry"}, getenv, &out, io.Discard) }()
		base := fmt.Sprintf("http://127.0.0.1:%d", port)
		waitForReady(t, base+"/readyz")
		for i := range 400 {
			method := http.MethodGet
			if i%2 == 1 {
				method = http.MethodHead
			}
			req, err := http.NewRequest(method, base+"/bonds/B"+strconv.Itoa(i), nil)
			require.NoError(t, err)
			res, err := http.DefaultClient.Do(req)
			require.NoError(t, err)
			_, _ = io.Copy(io.Discard, res.Body)
			res.Body.Close()
		}
		cancel()
		select {
		case err := <-done:
			require.NoError(t, err)
		case <-time.After(15 * time.Second):
			t.Fatal("the server did not stop")
		}
		logs := out.String()
		assert.Contains(t, logs, `"message":"serving"`, "start-up lines are in the burst")
		assert.Contains(t, logs, `"message":"stopped"`, "shutdown lines are in the burst")
		assert.GreaterOrEqual(t, checkTimestamps(t, logs), 400)
	})
	t.Run("sdk", func(t *testing.T) {
		var out syncBuffer
		var opts awsconfig.LoadOptions
		require.NoError(t, sdkLogger(newLogger(config.Config{LogLevel: zerolog.InfoLevel, LogFormat: "json"}, &out))(&opts))
		for i := range 400 {
			opts.Logger.Logf(logging.Warn, "retry %d", i)
		}
		assert.Equal(t, 400, checkTimestamps(t, out.String()))
	})
	t.Run("whole-seconds", func(t *testing.T) {
		// A time with zero milliseconds, or a multiple of 10 or 100, keeps
		// its digits (the layout is every time field's, not only @timestamp's).
		var out syncBuffer
		log := newLogger(config.Config{LogLevel: zerolog.InfoLevel, LogFormat: "json"}, &out)
		for _, ms := range []int{0, 100, 250, 7} {
			log.Info().Time("at", time.Date(2026, 12, 1, 21, 52, 0, ms*int(time.Millisecond), time.UTC)).Msg("t")
		}
		want := []string{"2026-12-01T21:52:00.000Z", "2026-12-01T21:52:00.100Z", "2026-12-01T21:52:00.250Z", "2026-12-01T21:52:00.007Z"}
		var got []string
		for l := range strings.Lines(out.String()) {
			var line map[string]any
			require.NoError(t, json.Unmarshal([]byte(l), &line))
			got = append(got, line["at"].(string))
		}
		assert.Equal(t, want, got)
		checkTimestamps(t, out.String())
	})
}
