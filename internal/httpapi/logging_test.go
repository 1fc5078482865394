package httpapi_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.elastic.co/ecszerolog"

	"github.com/bondregistry/bond-registry/internal/httpapi"
	"github.com/bondregistry/bond-registry/internal/httpapi/apitest"
)

// syncBuffer is a bytes.Buffer safe for the server's goroutines.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// ecsLogger is built once, before any test runs, as cmd/bond-registry builds
// the service's: ecszerolog.New sets zerolog's process-wide field names, which
// must not change while servers of other tests log.
var ecsLogger = ecszerolog.New(io.Discard)

// newECSLogger returns an ECS logger writing to w.
func newECSLogger(w io.Writer) zerolog.Logger { return ecsLogger.Output(w) }

// waitLines waits until the log holds at least n lines (the access line is
// written as the handler returns, which may be just after the client has
// its response) and returns all of them, each decoded from JSON.
func waitLines(t *testing.T, logs *syncBuffer, n int) []map[string]any {
	t.Helper()
	var lines []map[string]any
	for deadline := time.Now().Add(2 * time.Second); ; {
		lines = lines[:0]
		sc := bufio.NewScanner(strings.NewReader(logs.String()))
		for sc.Scan() {
			var l map[string]any
			require.NoError(t, json.Unmarshal(sc.Bytes(), &l), "log line is JSON: %s", sc.Text())
			lines = append(lines, l)
		}
		if len(lines) >= n || time.Now().After(deadline) {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	require.GreaterOrEqual(t, len(lines), n, "log lines: %s", logs.String())
	return lines
}

// TestServer_Logging runs a full CRUD cycle and checks the access lines, and
// that no subscriber name or email reaches the log.
func TestServer_Logging(t *testing.T) {
	var logs syncBuffer
	c := newClient(t, httpapi.NewServer(newECSLogger(&logs), newBoltRepo(t), httpapi.Config{}))

	secrets := []string{"Lori Rodriguez", "mistymoore@yahoo.com", "David Watkins", "patrickbaker@hotmail.com",
		"Emily Garrett", "walter59@yahoo.com"}
	steps := []struct {
		method, path, body, route string
		status                    int
	}{
		{"POST", "/bonds", `{"bond_id": "FOO", "host_account_id": "TAPV54703350425479", "sub_account_id": "IMII87361536320662",
			"host_cost_center": "olive", "sub_cost_center": "blue", "subscribers": {
			"aaronorr": {"sid": "aaronorr", "name": "Lori Rodriguez", "email": "mistymoore@yahoo.com"}}}`, "/bonds", 201},
		{"GET", "/bonds/FOO", "", "/bonds/{bond_id}", 200},
		{"GET", "/bonds?cost_center_id=olive", "", "/bonds", 200},
		{"PUT", "/bonds/FOO", `{"subscribers": {"christopherwashington": {"sid": "christopherwashington",
			"name": "David Watkins", "email": "patrickbaker@hotmail.com"}}}`, "/bonds/{bond_id}", 200},
		{"POST", "/bonds/FOO/subscribers", `{"sid": "jessicadavis", "name": "Emily Garrett", "email": "walter59@yahoo.com"}`,
			"/bonds/{bond_id}/subscribers", 200},
		{"POST", "/bonds/FOO/subscribers", `{"sid": "x", "name": "Emily Garrett", "email": "not-an-email walter59@yahoo.com"}`,
			"/bonds/{bond_id}/subscribers", 422},
		{"GET", "/bonds/FOO/subscribers", "", "/bonds/{bond_id}/subscribers", 200},
		{"GET", "/bonds/FOO/subscribers/jessicadavis", "", "/bonds/{bond_id}/subscribers/{sid}", 200},
		{"DELETE", "/bonds/FOO/subscribers/jessicadavis", "", "/bonds/{bond_id}/subscribers/{sid}", 200},
		{"DELETE", "/bonds/FOO", "", "/bonds/{bond_id}", 204},
		{"GET", "/bonds/FOO", "", "/bonds/{bond_id}", 404},
		{"GET", "/nowhere", "", "", 404},
	}
	var ids []string
	for i, s := range steps {
		res := c.Do(t, s.method, s.path, s.body, nil)
		require.Equal(t, s.status, res.Status, "step %d %s %s: %s", i, s.method, s.path, res.Body)
		ids = append(ids, res.Header.Get("X-Request-ID"))
	}

	lines := waitLines(t, &logs, len(steps))
	var access []map[string]any
	for _, l := range lines {
		if l["message"] == "request" {
			access = append(access, l)
		}
	}
	require.Len(t, access, len(steps), "one access line per request")
	for i, s := range steps {
		l := access[i]
		assert.Equal(t, "info", l["log.level"], "step %d", i)
		assert.NotEmpty(t, l["ecs.version"], "step %d: ecs.version", i)
		ts, _ := l["@timestamp"].(string)
		_, err := time.Parse(time.RFC3339, ts)
		assert.NoError(t, err, "step %d: @timestamp is RFC 3339", i)
		assert.Equal(t, ids[i], l["http.request.id"], "step %d: http.request.id", i)
		assert.Equal(t, s.method, l["http.request.method"], "step %d: http.request.method", i)
		assert.Equal(t, s.route, l["http.route"], "step %d: http.route, the route pattern", i)
		assert.Equal(t, strings.SplitN(s.path, "?", 2)[0], l["url.path"], "step %d: url.path", i)
		assert.InDelta(t, s.status, l["http.response.status_code"], 0, "step %d: http.response.status_code", i)
		if s.status != http.StatusNoContent {
			assert.Greater(t, l["http.response.body.bytes"], 0.0, "step %d: http.response.body.bytes", i)
		}
		d, ok := l["event.duration"].(float64)
		assert.True(t, ok, "step %d: event.duration is a number: %v", i, l["event.duration"])
		assert.Positive(t, d, "step %d: event.duration", i)
		assert.Equal(t, math.Trunc(d), d, "step %d: event.duration in whole nanoseconds", i)
		assert.NotContains(t, l, "trace.id", "step %d: no traceparent, no trace.id", i)
	}
	all := logs.String()
	for _, s := range secrets {
		assert.NotContains(t, all, s, "a subscriber's name or email is in the log")
	}
}

// TestServer_LogTraceID checks that a valid W3C traceparent puts its trace id
// on every line of the request as trace.id, and that an invalid one is
// ignored (and does not fail the request).
func TestServer_LogTraceID(t *testing.T) {
	var logs syncBuffer
	c := newClient(t, httpapi.NewServer(newECSLogger(&logs), newBoltRepo(t), httpapi.Config{}))
	const traceID = "4bf92f3577b34da6a3ce929d0e0e4736"
	for _, tc := range []struct{ traceparent, want string }{
		{"00-" + traceID + "-00f067aa0ba902b7-01", traceID},
		{"00-00000000000000000000000000000000-00f067aa0ba902b7-01", ""}, // all-zero trace id: invalid
		{"00-" + strings.ToUpper(traceID) + "-00f067aa0ba902b7-01", ""}, // upper-case hex: invalid
		{"garbage", ""},
	} {
		res := c.Do(t, http.MethodGet, "/bonds/NOPE", "", apitest.Header{"traceparent": tc.traceparent})
		require.Equal(t, http.StatusNotFound, res.Status)
	}
	lines := waitLines(t, &logs, 4)
	require.Len(t, lines, 4, "one access line per request")
	assert.Equal(t, traceID, lines[0]["trace.id"], "a valid traceparent")
	for i, l := range lines[1:] {
		assert.NotContains(t, l, "trace.id", "invalid traceparent %d", i+1)
	}
}

// TestServer_LogHeadBodyBytes: the access line of a HEAD reports the body
// bytes sent, 0, not the size of the GET's body that net/http dropped.
func TestServer_LogHeadBodyBytes(t *testing.T) {
	var logs syncBuffer
	c := newClient(t, httpapi.NewServer(newECSLogger(&logs), newBoltRepo(t), httpapi.Config{}))
	create := c.Do(t, http.MethodPost, "/bonds", `{"bond_id": "FOO", "host_account_id": "H", "sub_account_id": "S",
		"host_cost_center": "olive", "sub_cost_center": "blue"}`, nil)
	require.Equal(t, http.StatusCreated, create.Status)
	for _, path := range []string{"/bonds/FOO", "/bonds", "/bonds/FOO/subscribers", "/bonds/NOPE", "/healthz"} {
		get := c.Do(t, http.MethodGet, path, "", nil)
		require.NotEmpty(t, get.Body, "GET %s has a body", path)
		head := c.Do(t, http.MethodHead, path, "", nil)
		require.Equal(t, get.Status, head.Status, "HEAD %s", path)
		require.Empty(t, head.Body, "HEAD %s", path)
	}
	lines := waitLines(t, &logs, 11)
	for _, l := range lines[1:] {
		want := 0.0
		if l["http.request.method"] == http.MethodGet {
			assert.Greater(t, l["http.response.body.bytes"], want, "GET %s", l["url.path"])
			continue
		}
		assert.Equal(t, want, l["http.response.body.bytes"], "%s %s: body bytes sent", l["http.request.method"], l["url.path"])
	}
}

// gatedWriter blocks every write until open is closed, as a full stdout pipe
// does.
type gatedWriter struct{ open chan struct{} }

func (g gatedWriter) Write(p []byte) (int, error) { <-g.open; return len(p), nil }

// An answer is sent before its access line is written: a log output that
// blocks holds up the line, never the answer (a committed write's 201 was
// lost to the write deadline while stdout was full).
func TestServer_AnswerBeforeAccessLine(t *testing.T) {
	gate := gatedWriter{open: make(chan struct{})}
	srv := httptest.NewServer(httpapi.NewServer(newECSLogger(gate), newBoltRepo(t), httpapi.Config{}))
	defer srv.Close()
	defer close(gate.open)
	for _, c := range []struct {
		method, path, body string
		want               int
	}{
		{http.MethodPost, "/bonds", `{"bond_id":"FOO","host_account_id":"H","sub_account_id":"S","host_cost_center":"teal","sub_cost_center":"yellow","subscribers":{}}`, http.StatusCreated},
		{http.MethodGet, "/bonds/FOO", "", http.StatusOK},
		{http.MethodDelete, "/bonds/FOO", "", http.StatusNoContent},
		{http.MethodGet, "/bonds/FOO", "", http.StatusNotFound},
	} {
		req, err := http.NewRequest(c.method, srv.URL+c.path, strings.NewReader(c.body))
		require.NoError(t, err)
		req.Header.Set("Content-Type", "application/json")
		// A connection whose access line waits cannot serve its next
		// request: each request gets its own.
		client := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
		res, err := client.Do(req)
		require.NoError(t, err, "%s %s: the answer waited for the log", c.method, c.path)
		_, _ = io.Copy(io.Discard, res.Body)
		res.Body.Close()
		assert.Equal(t, c.want, res.StatusCode, "%s %s", c.method, c.path)
	}
}
