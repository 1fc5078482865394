package httpapi_test

import (
	"bufio"
	"context"
	"errors"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bondregistry/bond-registry/internal/apikey"
	"github.com/bondregistry/bond-registry/internal/bond"
	"github.com/bondregistry/bond-registry/internal/bond/bondfake"
	"github.com/bondregistry/bond-registry/internal/httpapi"
	"github.com/bondregistry/bond-registry/internal/httpapi/apitest"
	"github.com/bondregistry/bond-registry/internal/metrics"
)

// exchange writes raw on a new connection to srv and reads the responses
// that come back until the server closes the connection or two seconds
// pass; it returns them and whether the server closed the connection.
func exchange(t *testing.T, srv *httptest.Server, raw string) (statuses []int, closed bool) {
	t.Helper()
	conn, err := net.Dial("tcp", srv.Listener.Addr().String())
	require.NoError(t, err)
	defer conn.Close()
	require.NoError(t, conn.SetDeadline(time.Now().Add(2*time.Second)))
	_, err = io.WriteString(conn, raw)
	require.NoError(t, err)
	br := bufio.NewReader(conn)
	for {
		res, err := http.ReadResponse(br, nil)
		if err != nil {
			var ne net.Error
			timeout := errors.As(err, &ne) && ne.Timeout()
			return statuses, !timeout
		}
		_, _ = io.Copy(io.Discard, res.Body)
		res.Body.Close()
		statuses = append(statuses, res.StatusCode)
	}
}

// After a request with both Content-Length and Transfer-Encoding
// the connection stayed open and served the next request; RFC 9112 section
// 6.1 says the server MUST close it.
func TestProtocol_CloseAfterContentLengthAndTransferEncoding(t *testing.T) {
	srv := httptest.NewServer(httpapi.NewServer(zerolog.Nop(), newBoltRepo(t), httpapi.Config{}))
	t.Cleanup(srv.Close)
	next := "GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n"

	body := `{"sid":"u"}`
	smuggle := "POST /bonds/B1/subscribers HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n" +
		"Content-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n" +
		"b\r\n" + body + "\r\n0\r\n\r\n"
	statuses, closed := exchange(t, srv, smuggle+next)
	assert.Len(t, statuses, 1, "only the first request is answered: %v", statuses)
	assert.True(t, closed, "the server closed the connection")

	// Control: the same request framed by Content-Length alone keeps the
	// connection, so the check above can fail.
	plain := "POST /bonds/B1/subscribers HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n" +
		"Content-Length: 11\r\n\r\n" + body
	statuses, _ = exchange(t, srv, plain+next)
	assert.Equal(t, []int{http.StatusUnprocessableEntity, http.StatusOK}, statuses)
}

// 1 MiB of headers per request were accepted (Go's default). Past
// MaxHeaderBytes the answer is a JSON 431 and the connection is closed.
func TestProtocol_HeaderCap(t *testing.T) {
	c := apitest.NewClient(t, httpapi.NewServer(zerolog.Nop(), newBoltRepo(t), httpapi.Config{MaxHeaderBytes: 8 << 10}))
	res := c.Do(t, http.MethodGet, "/bonds", "", apitest.Header{"X-Big": strings.Repeat("a", 7<<10)})
	assert.Equal(t, http.StatusOK, res.Status)
	for _, h := range []apitest.Header{
		{"X-Big": strings.Repeat("a", 9<<10)},
		{"X-Big": strings.Repeat("a", 900<<10)},
	} {
		res = c.Do(t, http.MethodGet, "/healthz", "", h)
		assert.Equal(t, "Request header fields too large (limit 8192 bytes).", wantError(t, res, http.StatusRequestHeaderFieldsTooLarge))
	}
	many := apitest.Header{}
	for i := range 1000 {
		many["X-H"+strconv.Itoa(i)] = "v"
	}
	wantError(t, c.Do(t, http.MethodGet, "/bonds", "", many), http.StatusRequestHeaderFieldsTooLarge)
}

// The hostile corpus found it: a body sent too slowly ends at the server's
// read timeout, and the write timeout ended a few milliseconds later, so the
// JSON 400 got out only about half the time; otherwise the client saw the
// connection closed unanswered. Now it always gets the answer.
func TestProtocol_SlowBodyGetsItsAnswer(t *testing.T) {
	srv := httptest.NewUnstartedServer(httpapi.NewServer(zerolog.Nop(), newBoltRepo(t), httpapi.Config{}))
	srv.Config.ReadTimeout, srv.Config.WriteTimeout = 200*time.Millisecond, 200*time.Millisecond
	srv.Start()
	t.Cleanup(srv.Close)
	for i := range 5 {
		conn, err := net.Dial("tcp", srv.Listener.Addr().String())
		require.NoError(t, err)
		require.NoError(t, conn.SetDeadline(time.Now().Add(5*time.Second)))
		_, err = io.WriteString(conn, "POST /bonds HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{")
		require.NoError(t, err)
		res, err := http.ReadResponse(bufio.NewReader(conn), nil)
		require.NoError(t, err, "round %d: an answer, not a closed connection", i)
		body, _ := io.ReadAll(res.Body)
		conn.Close()
		assert.Equal(t, http.StatusBadRequest, res.StatusCode)
		assert.JSONEq(t, `{"detail":"The request body could not be read."}`, string(body))
	}
}

// The in-flight limit sheds load with a JSON 503 and Retry-After; the
// probes stay outside it.
func TestProtocol_MaxInFlight(t *testing.T) {
	entered, release := make(chan struct{}), make(chan struct{})
	repo := &bondfake.Repo{Repository: newBoltRepo(t), ReadFn: func(ctx context.Context, id string) (bond.Bond, bool, error) {
		entered <- struct{}{}
		<-release
		return bond.Bond{}, false, nil
	}}
	c := newClient(t, httpapi.NewServer(zerolog.Nop(), repo, httpapi.Config{MaxInFlight: 2}))
	done := make(chan int, 2)
	for range 2 {
		go func() {
			res, err := c.Send(t, http.MethodGet, "/bonds/B1", "", nil)
			if err != nil {
				done <- 0
				return
			}
			done <- res.Status
		}()
		<-entered
	}
	res := c.Do(t, http.MethodGet, "/bonds", "", nil)
	assert.Equal(t, "The service is busy. Retry later.", wantError(t, res, http.StatusServiceUnavailable))
	assert.Equal(t, "1", res.Header.Get("Retry-After"))
	assert.Equal(t, http.StatusOK, c.Do(t, http.MethodGet, "/healthz", "", nil).Status)
	assert.Equal(t, http.StatusOK, c.Do(t, http.MethodGet, "/readyz", "", nil).Status)
	close(release)
	assert.Equal(t, http.StatusNotFound, <-done)
	assert.Equal(t, http.StatusNotFound, <-done)
	assert.Equal(t, http.StatusOK, c.Do(t, http.MethodGet, "/bonds", "", nil).Status, "slots are given back")
}

// The hostile corpus found it: a request refused by the in-flight limit
// got its 503 only once net/http had read the rest of its body, which a
// slow client sends at leisure (until the read timeout). Now the 503 goes
// out at once, and the connection is not reused.
func TestProtocol_BusyAnswersABodyAtOnce(t *testing.T) {
	entered, release := make(chan struct{}), make(chan struct{})
	repo := &bondfake.Repo{Repository: newBoltRepo(t), ReadFn: func(ctx context.Context, id string) (bond.Bond, bool, error) {
		entered <- struct{}{}
		<-release
		return bond.Bond{}, false, nil
	}}
	srv := httptest.NewServer(httpapi.NewServer(zerolog.Nop(), repo, httpapi.Config{MaxInFlight: 1}))
	t.Cleanup(srv.Close)
	done := make(chan struct{})
	go func() {
		defer close(done)
		if res, err := http.Get(srv.URL + "/bonds/B1"); err == nil {
			res.Body.Close()
		}
	}()
	<-entered
	defer func() { close(release); <-done }()

	conn, err := net.Dial("tcp", srv.Listener.Addr().String())
	require.NoError(t, err)
	defer conn.Close()
	require.NoError(t, conn.SetDeadline(time.Now().Add(2*time.Second)))
	_, err = io.WriteString(conn, "POST /bonds HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{")
	require.NoError(t, err)
	res, err := http.ReadResponse(bufio.NewReader(conn), nil)
	require.NoError(t, err, "the 503 comes before the body is complete")
	body, _ := io.ReadAll(res.Body)
	assert.Equal(t, http.StatusServiceUnavailable, res.StatusCode)
	assert.JSONEq(t, `{"detail":"The service is busy. Retry later."}`, string(body))
	assert.True(t, res.Close, "Connection: close: the connection is not reused")
}

// Every method string became a metric label value. Through the
// server, 1,000 random methods add one series, not 1,000.
func TestProtocol_MethodLabelsAreBounded(t *testing.T) {
	m := metrics.New("test")
	c := apitest.NewClient(t, httpapi.NewServer(zerolog.Nop(), newBoltRepo(t), httpapi.Config{Metrics: m}))
	const letters = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	for range 1000 {
		var b strings.Builder
		for range 12 {
			b.WriteByte(letters[rand.IntN(len(letters))])
		}
		res := c.Do(t, b.String(), "/bonds/B1", "", nil)
		wantError(t, res, http.StatusMethodNotAllowed)
	}
	res := c.Do(t, http.MethodGet, "/metrics", "", nil)
	require.Equal(t, http.StatusOK, res.Status)
	var series []string
	for line := range strings.SplitSeq(string(res.Body), "\n") {
		if strings.HasPrefix(line, "http_requests_total{") {
			series = append(series, line)
		}
	}
	assert.Equal(t, []string{`http_requests_total{method="OTHER",route="unmatched",status="405"} 1000`}, series)
	assert.Less(t, len(res.Body), 64<<10)
}

// The hostile corpus found it: a method chi has no route for at all got a
// 405 with an empty Allow on any path, also on a path that does not exist.
// An unknown path is a 404 whatever the method; a known one a 405 with its
// methods in Allow.
func TestProtocol_UnknownMethodOnUnknownPathIs404(t *testing.T) {
	c := newClient(t, httpapi.NewServer(zerolog.Nop(), newBoltRepo(t), httpapi.Config{}))
	for _, method := range []string{"FOO", "get", http.MethodPatch, http.MethodGet} {
		res := c.Do(t, method, "/no/such/path", "", nil)
		assert.Equal(t, "Not Found", wantError(t, res, http.StatusNotFound), method)
		assert.Empty(t, res.Header.Get("Allow"), method)
	}
	res := c.Do(t, "FOO", "/bonds/B1", "", nil)
	assert.Equal(t, "Method Not Allowed", wantError(t, res, http.StatusMethodNotAllowed))
	assert.Equal(t, "GET, HEAD, PUT, DELETE", res.Header.Get("Allow"))
}

// Every error the service sends is the JSON detail body, also from the
// handlers that are not ours (Swagger UI's files answered a plain-text 404).
func TestProtocol_ForeignHandlersErrorsAreJSON(t *testing.T) {
	c := newClient(t, httpapi.NewServer(zerolog.Nop(), newBoltRepo(t), httpapi.Config{Metrics: metrics.New("test")}))
	for _, path := range []string{"/docs/nope.js", "/docs/a/b", "/docs/index.html%00"} {
		res := c.Do(t, http.MethodGet, path, "", nil)
		assert.Equal(t, "Not Found", wantError(t, res, http.StatusNotFound), path)
	}
	res := c.Do(t, http.MethodGet, "/docs/index.html", "", nil)
	assert.Equal(t, http.StatusOK, res.Status)
	assert.Contains(t, res.Header.Get("Content-Type"), "text/html")
}

// The attacker's case: an error decided before the body is read (no key,
// wrong media type) reached a client that holds its body back only after
// the read timeout, or never. It comes at once, and the connection closes.
func TestProtocol_EarlyErrorsComeBeforeTheBody(t *testing.T) {
	_, parsed, err := apikey.Generate("reader", []string{apikey.ScopeRead})
	require.NoError(t, err)
	set, err := apikey.NewSet([]apikey.Key{parsed})
	require.NoError(t, err)
	for name, tc := range map[string]struct {
		cfg    httpapi.Config
		header string
		status int
	}{
		"401 no key":     {httpapi.Config{APIKeys: set}, "Content-Type: application/json\r\n", http.StatusUnauthorized},
		"415 text/plain": {httpapi.Config{}, "Content-Type: text/plain\r\n", http.StatusUnsupportedMediaType},
	} {
		t.Run(name, func(t *testing.T) {
			srv := httptest.NewServer(httpapi.NewServer(zerolog.Nop(), newBoltRepo(t), tc.cfg))
			t.Cleanup(srv.Close)
			conn, err := net.Dial("tcp", srv.Listener.Addr().String())
			require.NoError(t, err)
			defer conn.Close()
			require.NoError(t, conn.SetDeadline(time.Now().Add(2*time.Second)))
			_, err = io.WriteString(conn, "POST /bonds HTTP/1.1\r\nHost: localhost\r\n"+tc.header+"Content-Length: 100\r\n\r\n{")
			require.NoError(t, err)
			res, err := http.ReadResponse(bufio.NewReader(conn), nil)
			require.NoError(t, err, "the answer comes before the body is complete")
			res.Body.Close()
			assert.Equal(t, tc.status, res.StatusCode)
			assert.True(t, res.Close, "Connection: close")
		})
	}
}
