package main

// The hostile corpus: requests as an attacker would send
// them, written byte for byte on raw TCP connections to the real server
// binary, a separate process, on each store. Every request must get the
// answer the contract (docs/api.md) gives it: a JSON {"detail": ...} 4xx, a
// 503 with Retry-After, or, for the few malformed requests net/http answers
// before any handler runs, exactly the plain-text answer docs/api.md ("Errors") lists;
// never another 5xx, never a hang. Every response stays under a stated size,
// the process under a stated peak RSS, and afterwards it still answers
// /healthz and a normal GET.

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bondregistry/bond-registry/internal/apikey"
	"github.com/bondregistry/bond-registry/internal/bond"
	"github.com/bondregistry/bond-registry/internal/dynamotest"
	"github.com/bondregistry/bond-registry/internal/httpapi"
)

// The bounds the corpus asserts (docs/testing.md, "The hostile corpus").
const (
	// maxErrorResponse bounds the whole response (status line, headers,
	// body) to any request the service refuses.
	maxErrorResponse = 64 << 10
	// maxResponse bounds any response: a list page stops at
	// bond.MaxPageBytes (1 MiB by the store's item size); its JSON is a
	// little larger.
	maxResponse = 2 << 20
	// maxPeakRSS bounds the server's peak resident set (VmHWM) over the
	// whole corpus: its heap, stacks, binary and, on bolt, the mapped file.
	maxPeakRSS = 150 << 20
	// hangTimeout is how long the client waits for any answer; the
	// server's own slowest timeout is the 5 s header read and
	// REQUEST_TIMEOUT + 5 s for a body.
	hangTimeout = 15 * time.Second
	// corpusRequestTimeout is the server's REQUEST_TIMEOUT in the corpus,
	// short so that the slow-body cases end soon (after it + 5 s).
	corpusRequestTimeout = time.Second
	// corpusMaxInFlight is the server's MAX_IN_FLIGHT in the corpus.
	corpusMaxInFlight = 8
)

// expectation is how a case must be answered.
type expectation int

const (
	// ours: the service's JSON answer, {"detail": ...} for every error.
	ours expectation = iota
	// netHTTP: net/http answers before any handler, as docs/api.md ("Errors") lists:
	// plain text (or no body), and the connection closed.
	netHTTP
)

// hostileCase is one request of the corpus.
type hostileCase struct {
	name   string
	method string // for reading the response (HEAD has no body)
	// wire is the request as sent; chunks, when set, are sent one by one
	// with pause between them instead.
	wire   string
	chunks []string
	pause  time.Duration
	// halfClose closes the client's side for writing after the request, so
	// that the server sees the end of a short body.
	halfClose bool
	status    int // the status the contract gives
	expect    expectation
	// closes: the server must close the connection after the answer.
	closes bool
	// check, when set, checks more of the answer.
	check func(t *testing.T, r hostileResult)
}

// hostileResult is what came back for one case.
type hostileResult struct {
	status  int
	header  http.Header
	close   bool // the response says Connection: close
	body    []byte
	bytes   int // bytes read from the connection: the whole response
	closed  bool
	elapsed time.Duration
	err     error
}

// countingReader counts the bytes read through it.
type countingReader struct {
	r io.Reader
	n atomic.Int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n.Add(int64(n))
	return n, err
}

// rawRequest returns an HTTP/1.1 request on the wire: the request line, a
// Host, the header lines as given, a Content-Length when there is a body
// and the headers set no framing, and the body.
func rawRequest(method, target string, headers []string, body string) string {
	var b strings.Builder
	b.WriteString(method + " " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\n")
	framed := false
	for _, h := range headers {
		l := strings.ToLower(h)
		framed = framed || strings.HasPrefix(l, "content-length:") || strings.HasPrefix(l, "transfer-encoding:")
		b.WriteString(h + "\r\n")
	}
	if !framed && (body != "" || method == http.MethodPost || method == http.MethodPut) {
		b.WriteString("Content-Length: " + strconv.Itoa(len(body)) + "\r\n")
	}
	b.WriteString("\r\n")
	b.WriteString(body)
	return b.String()
}

// jsonType is the Content-Type header of the service's JSON bodies.
var jsonType = []string{"Content-Type: application/json"}

// hostileServer is one server process of the corpus.
type hostileServer struct {
	addr    string
	cmd     *exec.Cmd
	logPath string
	done    chan struct{} // closed when the process has exited

	mu       sync.Mutex
	peakAnon int64 // the largest RssAnon sampled, bytes
}

// serverBinary builds bond-registry as `make build` does (no race
// detector, so that its memory is the production binary's) into a
// directory of t.
func serverBinary(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "bond-registry")
	cmd := exec.Command("go", "build", "-o", bin, ".")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "go build: %s", out)
	return bin
}

// startHostileServer starts the binary with env (and nothing else of the
// test's environment), waits for /readyz and samples its memory until it
// exits; the server is stopped (SIGTERM, then SIGKILL) when t ends.
func startHostileServer(t *testing.T, bin string, env ...string) *hostileServer {
	t.Helper()
	port := freePort(t)
	s := &hostileServer{addr: "127.0.0.1:" + strconv.Itoa(port), logPath: filepath.Join(t.TempDir(), "server.log"), done: make(chan struct{})}
	logFile, err := os.Create(s.logPath)
	require.NoError(t, err)
	s.cmd = exec.Command(bin, "serve")
	s.cmd.Env = append([]string{"PATH=" + os.Getenv("PATH"), "PORT=" + strconv.Itoa(port), "LOG_LEVEL=warn",
		"REQUEST_TIMEOUT=" + corpusRequestTimeout.String(), "MAX_IN_FLIGHT=" + strconv.Itoa(corpusMaxInFlight)}, env...)
	s.cmd.Stdout, s.cmd.Stderr = logFile, logFile
	require.NoError(t, s.cmd.Start())
	go func() {
		_ = s.cmd.Wait()
		logFile.Close()
		close(s.done)
	}()
	go s.sample()
	t.Cleanup(func() {
		_ = s.cmd.Process.Signal(os.Interrupt)
		select {
		case <-s.done:
		case <-time.After(15 * time.Second):
			_ = s.cmd.Process.Kill()
			<-s.done
		}
	})
	deadline := time.Now().Add(20 * time.Second)
	for {
		res, err := http.Get("http://" + s.addr + "/readyz")
		if err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return s
			}
		}
		select {
		case <-s.done:
			t.Fatalf("the server exited before it was ready:\n%s", s.logTail())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("the server did not get ready within 20s:\n%s", s.logTail())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// sample records the largest RssAnon of the process every 20 ms.
func (s *hostileServer) sample() {
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-s.done:
			return
		case <-tick.C:
		}
		if v, err := procStatus(s.cmd.Process.Pid, "RssAnon"); err == nil {
			s.mu.Lock()
			s.peakAnon = max(s.peakAnon, v)
			s.mu.Unlock()
		}
	}
}

// memory returns the peak resident set (VmHWM), the current one (VmRSS)
// and the largest RssAnon sampled, in bytes.
func (s *hostileServer) memory(t *testing.T) (peak, now, peakAnon int64) {
	t.Helper()
	peak, err := procStatus(s.cmd.Process.Pid, "VmHWM")
	require.NoError(t, err)
	now, err = procStatus(s.cmd.Process.Pid, "VmRSS")
	require.NoError(t, err)
	s.mu.Lock()
	defer s.mu.Unlock()
	return peak, now, s.peakAnon
}

// procStatus reads one "Name: N kB" field of /proc/PID/status, in bytes.
func procStatus(pid int, field string) (int64, error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for line := range strings.SplitSeq(string(data), "\n") {
		name, v, ok := strings.Cut(line, ":")
		if ok && name == field {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return kb << 10, err
		}
	}
	return 0, fmt.Errorf("no %s in /proc/%d/status", field, pid)
}

// logTail returns the last lines of the server's log.
func (s *hostileServer) logTail() string {
	data, _ := os.ReadFile(s.logPath)
	lines := strings.Split(strings.TrimSpace(string(data)), "\n")
	return strings.Join(lines[max(0, len(lines)-30):], "\n")
}

// exchange sends c on a new connection and reads one response (at most
// maxResponse bytes of body); it then waits up to 2 s to see whether the
// server closes the connection.
func (s *hostileServer) exchange(c hostileCase) hostileResult {
	var r hostileResult
	start := time.Now()
	conn, err := net.DialTimeout("tcp", s.addr, 5*time.Second)
	if err != nil {
		r.err = err
		return r
	}
	defer conn.Close()
	_ = conn.SetDeadline(start.Add(hangTimeout))
	chunks := c.chunks
	if chunks == nil {
		chunks = []string{c.wire}
	}
	go func() {
		// The server may answer and close before it has read everything
		// (a 413, a 431): write errors are expected then.
		for i, ch := range chunks {
			if i > 0 {
				time.Sleep(c.pause)
			}
			if _, err := io.WriteString(conn, ch); err != nil {
				return
			}
		}
		if c.halfClose {
			_ = conn.(*net.TCPConn).CloseWrite()
		}
	}()
	cr := &countingReader{r: conn}
	br := bufio.NewReader(cr)
	method := c.method
	if method == "" {
		method = http.MethodGet
	}
	res, err := http.ReadResponse(br, &http.Request{Method: method})
	r.elapsed = time.Since(start)
	if err != nil {
		r.err = err
		r.closed = errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || isReset(err)
		r.bytes = int(cr.n.Load())
		return r
	}
	r.status, r.header, r.close = res.StatusCode, res.Header, res.Close
	r.body, r.err = io.ReadAll(io.LimitReader(res.Body, maxResponse+1))
	res.Body.Close()
	r.elapsed = time.Since(start)
	r.bytes = int(cr.n.Load()) - br.Buffered()
	if !c.closes && c.expect != netHTTP {
		return r
	}
	_ = conn.SetReadDeadline(time.Now().Add(2 * time.Second))
	_, err = br.ReadByte()
	var ne net.Error
	r.closed = err != nil && !(errors.As(err, &ne) && ne.Timeout())
	return r
}

func isReset(err error) bool {
	var oe *net.OpError
	return errors.As(err, &oe) && strings.Contains(oe.Err.Error(), "reset")
}

// checkAnswer asserts what every answer of the corpus must be, and the case's own expectation.
func checkAnswer(t *testing.T, c hostileCase, r hostileResult) {
	t.Helper()
	if !assert.NoError(t, r.err, "an answer within %s", hangTimeout) {
		return
	}
	assert.Equal(t, c.status, r.status, "status; body %.300q", r.body)
	assert.LessOrEqual(t, r.bytes, maxResponse, "response size")
	if r.status >= 400 {
		assert.LessOrEqual(t, r.bytes, maxErrorResponse, "error response size")
	}
	if c.closes {
		assert.True(t, r.closed, "the connection is closed after the answer")
	}
	if r.status >= 500 && c.expect != netHTTP {
		assert.Equal(t, http.StatusServiceUnavailable, r.status, "the only 5xx the service sends to client input is a 503")
		assert.Equal(t, "1", r.header.Get("Retry-After"), "a 503 has Retry-After")
	}
	switch c.expect {
	case netHTTP:
		assert.True(t, r.closed, "net/http closes the connection")
		assert.True(t, r.close, "net/http says Connection: close")
		if len(r.body) > 0 {
			assert.Equal(t, "text/plain; charset=utf-8", r.header.Get("Content-Type"))
		}
	case ours:
		if r.status >= 400 || r.status == http.StatusOK || r.status == http.StatusCreated {
			assert.Equal(t, "application/json", r.header.Get("Content-Type"), "body %.300q", r.body)
		}
		if r.status >= 400 && c.method != http.MethodHead {
			var e struct {
				Detail json.RawMessage `json:"detail"`
			}
			if assert.NoError(t, json.Unmarshal(r.body, &e), "a JSON error body: %.300q", r.body) {
				assert.NotEmpty(t, e.Detail, "the error body has a detail")
			}
		}
		if c.method == http.MethodHead {
			assert.Empty(t, r.body, "HEAD has no body")
		}
	}
	if c.check != nil {
		c.check(t, r)
	}
}

// problems returns the types of the problems of a 422 body.
func problems(t *testing.T, body []byte) []string {
	t.Helper()
	var e struct {
		Detail []bond.Problem `json:"detail"`
	}
	require.NoError(t, json.Unmarshal(body, &e), "%.300q", body)
	types := make([]string, len(e.Detail))
	for i, p := range e.Detail {
		types[i] = p.Type
	}
	return types
}

// hasProblem checks that a 422 lists a problem of type typ.
func hasProblem(typ string) func(t *testing.T, r hostileResult) {
	return func(t *testing.T, r hostileResult) {
		t.Helper()
		assert.Contains(t, problems(t, r.body), typ)
	}
}

// detailIs checks the detail message of an error.
func detailIs(msg string) func(t *testing.T, r hostileResult) {
	return func(t *testing.T, r hostileResult) {
		t.Helper()
		var e struct {
			Detail string `json:"detail"`
		}
		require.NoError(t, json.Unmarshal(r.body, &e), "%.300q", r.body)
		assert.Equal(t, msg, e.Detail)
	}
}

// bondBody returns a valid create body for id, with the account pair made
// from id so that bodies never clash on the pair.
func bondBody(id string, subscribers string) string {
	jid, _ := json.Marshal(id)
	return fmt.Sprintf(`{"bond_id":%s,"host_account_id":"H-%x","sub_account_id":"S","host_cost_center":"cc","sub_cost_center":"sc","subscribers":{%s}}`,
		jid, id, subscribers)
}

// subscriberJSON returns one "sid": {...} member of a subscribers map.
func subscriberJSON(sid, name, email string) string {
	js, _ := json.Marshal(sid)
	jn, _ := json.Marshal(name)
	je, _ := json.Marshal(email)
	return fmt.Sprintf(`%s:{"sid":%s,"name":%s,"email":%s}`, js, js, jn, je)
}

// largestSubscriber is a subscriber at every length limit (128-character
// sid, 256-character name, 254-character email), sid made unique by i.
func largestSubscriber(i int) string {
	sid := fmt.Sprintf("%05d", i) + strings.Repeat("s", bond.MaxIDLen-5)
	local := strings.Repeat("u", 60)
	domain := strings.Repeat(strings.Repeat("d", 60)+".", 3)
	domain += strings.Repeat("e", bond.MaxEmailLen-len(local)-1-len(domain)-4) + ".com"
	return subscriberJSON(sid, strings.Repeat("N", bond.MaxNameLen), local+"@"+domain)
}

// largestSubscriberBytes is what one largestSubscriber adds to a bond's
// bond.ItemSize.
const largestSubscriberBytes = 1 + bond.MaxIDLen + 3 + 1 + 3 + bond.MaxIDLen + 1 + 4 + bond.MaxNameLen + 1 + 5 + bond.MaxEmailLen

// The largest pages of the corpus: wideBonds bonds of wideSubscribers
// wideSubscriber each, listed by widePage.
const (
	wideBonds       = 4
	wideSubscribers = 300
	widePage        = "/bonds?cost_center_id=wide&limit=1000"
)

// wideSubscriber is a largest subscriber whose name takes twice its length
// in JSON (256 backslashes).
func wideSubscriber(i int) string {
	sid := fmt.Sprintf("%05d", i) + strings.Repeat("w", bond.MaxIDLen-5)
	return subscriberJSON(sid, strings.Repeat(`\`, bond.MaxNameLen), sid[:60]+"@example.com")
}

// subscribers returns n members of a subscribers map made by one.
func subscribers(n int, one func(i int) string) string {
	parts := make([]string, n)
	for i := range parts {
		parts[i] = one(i)
	}
	return strings.Join(parts, ",")
}

// distinctParams returns n query parameters p0=1&p1=1&...
func distinctParams(n int) string {
	parts := make([]string, n)
	for i := range parts {
		parts[i] = fmt.Sprintf("p%d=1", i)
	}
	return strings.Join(parts, "&")
}

// unknownFields returns n members "fNNNN":0.
func unknownFields(n int) string {
	parts := make([]string, n)
	for i := range parts {
		parts[i] = fmt.Sprintf(`"f%05d":0`, i)
	}
	return strings.Join(parts, ",")
}

// longKeyBody is the reported attack's body: one subscriber key of keyLen characters
// holding n unknown fields.
func longKeyBody(keyLen, n int) string {
	return fmt.Sprintf(`{"bond_id":"LK","host_account_id":"H","sub_account_id":"S","host_cost_center":"c","sub_cost_center":"d","subscribers":{"%s":{%s}}}`,
		strings.Repeat("k", keyLen), unknownFields(n))
}

// headerLines returns n header lines "X-Hnnnn: v".
func headerLines(n int) []string {
	h := make([]string, n)
	for i := range h {
		h[i] = fmt.Sprintf("X-H%05d: v", i)
	}
	return h
}

// corpusData is what the corpus's set-up made, for the cases that need it.
type corpusData struct {
	token string // a next_token of GET /bonds?cost_center_id=cc&limit=2
}

// setUpCorpus creates the bonds the cases work on: B1 with two
// subscribers, P1-P4 (pagination), and BIG, a bond a largest subscriber
// short of the 400 KB item limit.
func setUpCorpus(t *testing.T, s *hostileServer) corpusData {
	t.Helper()
	create := func(target, body string, want int) hostileResult {
		r := s.exchange(hostileCase{wire: rawRequest(http.MethodPost, target, jsonType, body)})
		require.NoError(t, r.err)
		require.Equal(t, want, r.status, "set-up POST %s: %.300q", target, r.body)
		return r
	}
	create("/bonds", bondBody("B1", subscriberJSON("alice", "Alice", "alice@example.com")+","+subscriberJSON("bob", "Bob", "bob@example.com")), http.StatusCreated)
	for i := 1; i <= 4; i++ {
		create("/bonds", bondBody("P"+strconv.Itoa(i), ""), http.StatusCreated)
	}
	// BIG: as many largest subscribers as fit in bond.MaxItemBytes.
	base := bond.ItemSize(bond.Bond{BondID: "BIG", HostAccountID: fmt.Sprintf("H-%x", "BIG"), SubAccountID: "S", HostCostCenter: "cc", SubCostCenter: "sc"})
	n := (bond.MaxItemBytes - base) / largestSubscriberBytes
	require.LessOrEqual(t, n, bond.MaxSubscribers)
	create("/bonds", bondBody("BIG", subscribers(n, largestSubscriber)), http.StatusCreated)

	// WIDE1-4: the largest pages. Each name is 256 backslashes, 2 bytes
	// each in JSON, so that a page is larger sent than stored: four bonds
	// fit in 1 MB of stored size but not in 1 MiB of JSON.
	for i := 1; i <= wideBonds; i++ {
		id := "WIDE" + strconv.Itoa(i)
		body := strings.Replace(bondBody(id, subscribers(wideSubscribers, wideSubscriber)), `"host_cost_center":"cc"`, `"host_cost_center":"wide"`, 1)
		create("/bonds", body, http.StatusCreated)
	}
	r := s.exchange(hostileCase{wire: rawRequest(http.MethodGet, widePage, nil, "")})
	require.Equal(t, http.StatusOK, r.status)
	var page []json.RawMessage
	require.NoError(t, json.Unmarshal(r.body, &page))
	t.Logf("the largest page: %d bonds, %d bytes of JSON", len(page), len(r.body))
	require.Less(t, len(page), wideBonds, "the page is cut by its size")
	require.LessOrEqual(t, len(r.body), bond.MaxPageBytes, "a page is at most 1 MiB as sent")
	require.NotEmpty(t, r.header.Get("Link"))

	r = s.exchange(hostileCase{wire: rawRequest(http.MethodGet, "/bonds?cost_center_id=cc&limit=2", nil, "")})
	require.Equal(t, http.StatusOK, r.status)
	m := regexp.MustCompile(`next_token=([A-Za-z0-9_%-]+)>`).FindStringSubmatch(r.header.Get("Link"))
	require.Len(t, m, 2, "a Link rel=next: %q", r.header.Get("Link"))
	token, err := url.QueryUnescape(m[1])
	require.NoError(t, err)
	return corpusData{token: token}
}

// hostileCases is the corpus: each case named by what it tries. Together
// with the method flood, the slow clients and the in-flight probe (see
// runCorpus) it is the whole corpus.
func hostileCases(d corpusData) []hostileCase {
	get := func(target string, headers ...string) string { return rawRequest(http.MethodGet, target, headers, "") }
	post := func(target, body string, headers ...string) string {
		return rawRequest(http.MethodPost, target, append(slices.Clone(jsonType), headers...), body)
	}
	put := func(target, body string, headers ...string) string {
		return rawRequest(http.MethodPut, target, append(slices.Clone(jsonType), headers...), body)
	}
	long := strings.Repeat("x", 10_000)
	const header431 = "Request header fields too large (limit 32768 bytes)."
	tamper := func(tok string) string { // flip one character of the MAC
		b := []byte(tok)
		if b[5] == 'A' {
			b[5] = 'B'
		} else {
			b[5] = 'A'
		}
		return string(b)
	}
	forged := base64.RawURLEncoding.EncodeToString(append(make([]byte, 32), "P3"...))
	// A page token that is a real one of another query.
	c := []hostileCase{
		// Headers: the cap is MAX_HEADER_BYTES (32 KiB): a JSON 431 up to
		// twice that, net/http's own plain-text 431 past it.
		{name: "header 40 KB", wire: get("/bonds/B1", "X-Big: "+strings.Repeat("a", 40<<10)), status: 431, closes: true, check: detailIs(header431)},
		{name: "header 100 KB", wire: get("/bonds/B1", "X-Big: "+strings.Repeat("a", 100<<10)), status: 431, expect: netHTTP},
		{name: "header 1 MiB", wire: get("/bonds/B1", "X-Big: "+strings.Repeat("a", 1<<20)), status: 431, expect: netHTTP},
		{name: "3,000 headers (36 KB)", wire: get("/bonds/B1", headerLines(3000)...), status: 431, closes: true},
		{name: "20,000 headers (260 KB)", wire: get("/bonds/B1", headerLines(20000)...), status: 431, expect: netHTTP},
		{name: "request target 40 KB", wire: get("/bonds?cost_center_id=" + strings.Repeat("c", 40<<10)), status: 431, closes: true},
		{name: "header name with a space", wire: get("/bonds/B1", "X Bad: v"), status: 400, expect: netHTTP},
		{name: "header value with a control character", wire: get("/bonds/B1", "X-Bad: a\x01b"), status: 400, expect: netHTTP},
		{name: "header value with NUL", wire: get("/bonds/B1", "X-Bad: a\x00b"), status: 400, expect: netHTTP},
		{name: "obsolete line folding (net/http joins the lines, RFC 9112 section 5.2)", wire: get("/bonds/B1", "X-Fold: a", " b"), status: 200},
		{name: "no Host", wire: "GET /bonds/B1 HTTP/1.1\r\n\r\n", status: 400, expect: netHTTP},
		{name: "two Hosts", wire: get("/bonds/B1", "Host: other"), status: 400, expect: netHTTP},
		{name: "request line garbage", wire: "\x00\x01\x02\x03\r\n\r\n", status: 400, expect: netHTTP},
		{name: "bad escape in the path", wire: get("/bonds/%ZZ"), status: 400, expect: netHTTP},
		{name: "X-Request-ID of 10,000 characters", wire: get("/bonds/B1", "X-Request-ID: "+long), status: 200, check: func(t *testing.T, r hostileResult) {
			assert.LessOrEqual(t, len(r.header.Get("X-Request-ID")), 128, "a bad request id is replaced")
		}},

		// Content types.
		{name: "POST without Content-Type", wire: rawRequest(http.MethodPost, "/bonds", nil, bondBody("CT1", "")), status: 415},
		{name: "POST text/plain", wire: rawRequest(http.MethodPost, "/bonds", []string{"Content-Type: text/plain"}, bondBody("CT2", "")), status: 415},
		{name: "POST application/xml", wire: rawRequest(http.MethodPost, "/bonds", []string{"Content-Type: application/xml"}, "<bond/>"), status: 415},
		{name: "POST multipart/form-data", wire: rawRequest(http.MethodPost, "/bonds", []string{"Content-Type: multipart/form-data; boundary=x"}, "--x--"), status: 415},
		{name: "POST application/json-patch+json", wire: rawRequest(http.MethodPost, "/bonds", []string{"Content-Type: application/json-patch+json"}, "[]"), status: 415},
		{name: "POST malformed Content-Type", wire: rawRequest(http.MethodPost, "/bonds", []string{"Content-Type: application/json;;;=;"}, "{}"), status: 415},
		{name: "POST upper-case APPLICATION/JSON, empty object", wire: rawRequest(http.MethodPost, "/bonds", []string{"Content-Type: APPLICATION/JSON"}, "{}"), status: 422, check: hasProblem("value_error.missing")},
		{name: "POST UTF-16 body", wire: rawRequest(http.MethodPost, "/bonds", []string{"Content-Type: application/json; charset=utf-16"}, "\xff\xfe{\x00}\x00"), status: 422, check: hasProblem("value_error.jsondecode")},
		{name: "PUT without Content-Type", wire: rawRequest(http.MethodPut, "/bonds/B1", nil, `{"host_cost_center":"x"}`), status: 415},
		{name: "subscriber POST text/plain", wire: rawRequest(http.MethodPost, "/bonds/B1/subscribers", []string{"Content-Type: text/plain"}, `{}`), status: 415},
		{name: "empty body", wire: post("/bonds", ""), status: 422, check: hasProblem("value_error.jsondecode")},

		// JSON structure.
		{name: "malformed JSON", wire: post("/bonds", "{"), status: 422, check: hasProblem("value_error.jsondecode")},
		{name: "array body", wire: post("/bonds", "[]"), status: 422, check: hasProblem("type_error.dict")},
		{name: "null body", wire: post("/bonds", "null"), status: 422},
		{name: "byte order mark", wire: post("/bonds", "\xef\xbb\xbf"+bondBody("BOM", "")), status: 422, check: hasProblem("value_error.jsondecode")},
		{name: "nesting 200,000 deep (unbalanced)", wire: post("/bonds", `{"bond_id":`+strings.Repeat("[", 200_000)), status: 422, check: hasProblem("value_error.jsondecode")},
		{name: "nesting 100,000 deep (balanced)", wire: post("/bonds", `{"x":`+strings.Repeat("[", 100_000)+strings.Repeat("]", 100_000)+`}`), status: 422},
		{name: "nesting 5,000 deep in an unknown field", wire: post("/bonds", `{"x":`+strings.Repeat("[", 5000)+strings.Repeat("]", 5000)+`}`), status: 422, check: hasProblem("value_error.extra")},
		{name: "nested objects where a sid belongs", wire: post("/bonds/B1/subscribers", `{"sid":`+strings.Repeat(`{"a":`, 3000)+"1"+strings.Repeat("}", 3000)+`,"name":"n","email":"a@b.c"}`), status: 422, check: hasProblem("type_error.str")},
		{name: "duplicate key", wire: post("/bonds", `{"bond_id":"D1","bond_id":"D2","host_account_id":"H","sub_account_id":"S","host_cost_center":"c","sub_cost_center":"d"}`), status: 422, check: hasProblem("value_error.duplicate_key")},
		{name: "duplicate key by escape", wire: post("/bonds", `{"bond_id":"D1","bond\u005fid":"D2","host_account_id":"H","sub_account_id":"S","host_cost_center":"c","sub_cost_center":"d"}`), status: 422, check: hasProblem("value_error.duplicate_key")},
		{name: "duplicate subscriber key", wire: post("/bonds", bondBody("D3", subscriberJSON("a", "A", "a@example.com")+","+subscriberJSON("a", "B", "b@example.com"))), status: 422, check: hasProblem("value_error.duplicate_key")},
		{name: "duplicate key in a subscriber", wire: post("/bonds/B1/subscribers", `{"sid":"z","sid":"y","name":"n","email":"z@example.com"}`), status: 422, check: hasProblem("value_error.duplicate_key")},
		{name: "case-variant key", wire: post("/bonds", `{"Bond_ID":"CV","bond_id":"CV","host_account_id":"H","sub_account_id":"S","host_cost_center":"c","sub_cost_center":"d"}`), status: 422, check: hasProblem("value_error.extra")},
		{name: "case-variant keys only", wire: post("/bonds", `{"BOND_ID":"CV","Host_Account_Id":"H","SUB_ACCOUNT_ID":"S","Host_Cost_Center":"c","Sub_Cost_Center":"d"}`), status: 422, check: hasProblem("value_error.missing")},
		{name: "case-variant subscriber key", wire: post("/bonds/B1/subscribers", `{"SID":"z","sid":"z","name":"n","email":"z@example.com"}`), status: 422, check: hasProblem("value_error.extra")},
		{name: "number where a string belongs", wire: post("/bonds", `{"bond_id":1e999999,"host_account_id":"H","sub_account_id":"S","host_cost_center":"c","sub_cost_center":"d"}`), status: 422, check: hasProblem("type_error.str")},
		{name: "number of 500,000 digits", wire: post("/bonds", `{"bond_id":`+strings.Repeat("9", 500_000)+`}`), status: 422},
		{name: "subscriber key differs from sid", wire: post("/bonds", bondBody("KS", `"a":{"sid":"b","name":"n","email":"b@example.com"}`)), status: 422},
		{name: "email garbage", wire: post("/bonds/B1/subscribers", `{"sid":"z","name":"n","email":"<a@b>\"@@"}`), status: 422, check: hasProblem("value_error.email")},

		// Characters.
		{name: "control character in bond_id", wire: post("/bonds", bondBody("a\x01b", "")), status: 422, check: hasProblem("value_error.str.control_characters")},
		{name: "NUL in bond_id", wire: post("/bonds", bondBody("a\x00b", "")), status: 422, check: hasProblem("value_error.str.control_characters")},
		{name: "raw control character inside a JSON string", wire: post("/bonds", `{"bond_id":"a`+"\x01"+`b"}`), status: 422, check: hasProblem("value_error.jsondecode")},
		{name: "control character in a sid", wire: post("/bonds/B1/subscribers", `{"sid":"z\u0007","name":"n","email":"z@example.com"}`), status: 422, check: hasProblem("value_error.str.control_characters")},
		{name: "invalid UTF-8 in a name", wire: post("/bonds/B1/subscribers", "{\"sid\":\"u1\",\"name\":\"Bad \xe9 Name\",\"email\":\"u1@example.com\"}"), status: 422, check: hasProblem("value_error.jsondecode")},
		{name: "invalid UTF-8 in a key", wire: post("/bonds", "{\"bond\xff_id\":\"X\"}"), status: 422, check: hasProblem("value_error.jsondecode")},
		{name: "overlong UTF-8 in bond_id", wire: post("/bonds", strings.Replace(bondBody("UTF", ""), "UTF", "a\xc0\xafb", 1)), status: 422, check: hasProblem("value_error.jsondecode")},
		{name: "UTF-16 surrogate bytes in bond_id", wire: post("/bonds", strings.Replace(bondBody("UTF", ""), "UTF", "a\xed\xa0\x80b", 1)), status: 422, check: hasProblem("value_error.jsondecode")},
		{name: "escaped lone surrogate in bond_id", wire: post("/bonds", strings.Replace(bondBody("UTF", ""), "UTF", `a\ud800b`, 1)), status: 422, check: hasProblem("value_error.jsondecode")},
		{name: "whitespace around an id", wire: post("/bonds", bondBody(" W ", "")), status: 422, check: hasProblem("value_error.str.whitespace")},

		// Sizes.
		{name: "bond_id of 10,000 characters", wire: post("/bonds", bondBody(long, "")), status: 422, check: hasProblem("value_error.any_str.max_length")},
		{name: "1,000 unknown fields", wire: post("/bonds", `{`+unknownFields(1000)+`}`), status: 422, check: hasProblem("value_error.too_many_members")},
		{name: "39,750-byte body: 32,000-character key, 1,000 unknown fields", wire: post("/bonds", longKeyBody(32_000, 1000)), status: 422, check: hasProblem("value_error.too_many_members")},
		{name: "88 KB body: 32,000-character key, 6,000 unknown fields", wire: post("/bonds", longKeyBody(32_000, 6000)), status: 422, check: hasProblem("value_error.too_many_members")},
		{name: "1 MiB body: 100,000-character key, 100,000 unknown fields", wire: post("/bonds", longKeyBody(100_000, (httpapi.MaxBodyBytes-100_200)/11)), status: 422, check: hasProblem("value_error.too_many_members")},
		{name: "150 invalid subscribers: 100 problems listed, the rest counted", wire: post("/bonds", invalidSubscribersBody(150)), status: 422, check: hasProblem("value_error.problems_omitted")},
		{name: "body over 1 MiB", wire: post("/bonds", `{"x":"`+strings.Repeat("a", 1<<20)+`"}`), status: 413},
		{name: "body of 8 MiB", wire: post("/bonds", `{"x":"`+strings.Repeat("a", 8<<20)+`"}`), status: 413, closes: true},
		{name: "chunked body over 1 MiB", wire: rawRequest(http.MethodPost, "/bonds", append(slices.Clone(jsonType), "Transfer-Encoding: chunked"),
			fmt.Sprintf("%x\r\n%s\r\n0\r\n\r\n", 2<<20, strings.Repeat("a", 2<<20))), status: 413, closes: true},
		{name: "subscribers past 400 KB on create", wire: post("/bonds", bondBody("TOO-BIG", subscribers(520, largestSubscriber))), status: 422, check: hasProblem("value_error.bond_too_large")},
		{name: "subscribers past 400 KB on update", wire: put("/bonds/B1", `{"subscribers":{`+subscribers(520, largestSubscriber)+`}}`), status: 422, check: hasProblem("value_error.bond_too_large")},
		{name: "subscriber add past 400 KB", wire: post("/bonds/BIG/subscribers", strings.SplitN(largestSubscriber(99_999), ":", 2)[1]), status: 422, check: hasProblem("value_error.bond_too_large")},
		{name: "1,001 subscribers", wire: post("/bonds", bondBody("MANY", subscribers(1001, func(i int) string {
			return subscriberJSON("s"+strconv.Itoa(i), "n", "s@example.com")
		}))), status: 422},

		// Identifiers in paths: they must survive the URLs built from them.
		{name: "path id of 10,000 characters", wire: get("/bonds/" + long), status: 422, check: hasProblem("value_error.any_str.max_length")},
		{name: "PUT path id of 10,000 characters", wire: put("/bonds/"+long, `{}`), status: 422},
		{name: "DELETE path id of 10,000 characters", wire: rawRequest(http.MethodDelete, "/bonds/"+long, nil, ""), status: 422},
		{name: "sid of 10,000 characters", wire: get("/bonds/B1/subscribers/" + long), status: 422},
		{name: "%2F in a path id", wire: get("/bonds/B1%2Fx"), status: 422, check: hasProblem("value_error.str.slash")},
		{name: "/ in a path id", wire: get("/bonds/B1/x"), status: 404, check: detailIs("Not Found")},
		{name: ".. as path id", wire: get("/bonds/.."), status: 422, check: hasProblem("value_error.str.dot_segment")},
		{name: ". as path id", wire: get("/bonds/."), status: 422, check: hasProblem("value_error.str.dot_segment")},
		{name: "%2E%2E as path id", wire: get("/bonds/%2E%2E"), status: 422, check: hasProblem("value_error.str.dot_segment")},
		{name: "DELETE %2e as path id", wire: rawRequest(http.MethodDelete, "/bonds/%2e", nil, ""), status: 422},
		{name: "/bonds/../healthz", wire: get("/bonds/../healthz"), status: 404},
		{name: "# in a path id", wire: get("/bonds/B1#x"), status: 404},
		{name: "%23 in a path id", wire: get("/bonds/B1%23x"), status: 404},
		{name: "%00 in a path id", wire: get("/bonds/%00"), status: 422, check: hasProblem("value_error.str.control_characters")},
		{name: "%FF in a path id", wire: get("/bonds/%FF"), status: 422, check: hasProblem("value_error.str.utf8")},
		{name: "/ in a created bond_id", wire: post("/bonds", bondBody("a/b", "")), status: 422, check: hasProblem("value_error.str.slash")},
		{name: ".. as created bond_id", wire: post("/bonds", bondBody("..", "")), status: 422, check: hasProblem("value_error.str.dot_segment")},
		{name: ". as created sid", wire: post("/bonds/B1/subscribers", `{"sid":".","name":"n","email":"d@example.com"}`), status: 422, check: hasProblem("value_error.str.dot_segment")},
		{name: "traversal in /docs", wire: get("/docs/../../../etc/passwd"), status: 404},
		{name: "traversal in /docs, escaped", wire: get("/docs/..%2F..%2Fetc%2Fpasswd"), status: 404},

		// The list query.
		{name: "limit 10^20", wire: get("/bonds?limit=100000000000000000000"), status: 422, check: hasProblem("type_error.integer")},
		{name: "limit -1", wire: get("/bonds?limit=-1"), status: 422, check: hasProblem("value_error.number.not_ge")},
		{name: "limit 0", wire: get("/bonds?limit=0"), status: 422},
		{name: "limit 1001", wire: get("/bonds?limit=1001"), status: 422, check: hasProblem("value_error.number.not_le")},
		{name: "limit 1e3", wire: get("/bonds?limit=1e3"), status: 422},
		{name: "limit empty", wire: get("/bonds?limit="), status: 422},
		{name: "limit 1000 (the largest page)", wire: get("/bonds?limit=1000"), status: 200},
		{name: "by_host garbage", wire: get("/bonds?by_host=maybe"), status: 422, check: hasProblem("type_error.bool")},
		{name: "bad escape in the query", wire: get("/bonds?cost_center_id=%zz"), status: 422, check: hasProblem("value_error.query")},
		{name: "cost_center_id of 10,000 characters", wire: get("/bonds?cost_center_id=" + long), status: 422},
		{name: "5,000 query parameters", wire: get("/bonds?" + strings.Repeat("a=1&", 5000)), status: 422, check: hasProblem("value_error.extra")},
		{name: "3,000 unknown query parameters", wire: get("/bonds?" + distinctParams(3000)), status: 422, check: hasProblem(httpapi.ProblemsOmittedType)},
		{name: "a body field name as a filter (host_cost_center=cc)", wire: get("/bonds?host_cost_center=cc"), status: 422, check: hasProblem("value_error.extra")},
		{name: "next_token garbage", wire: get("/bonds?next_token=garbage"), status: 422, check: hasProblem("value_error.next_token")},
		{name: "next_token empty", wire: get("/bonds?next_token="), status: 422, check: hasProblem("value_error.next_token")},
		{name: "next_token forged (zero MAC)", wire: get("/bonds?cost_center_id=cc&limit=2&next_token=" + forged), status: 422, check: hasProblem("value_error.next_token")},
		{name: "next_token tampered", wire: get("/bonds?cost_center_id=cc&limit=2&next_token=" + tamper(d.token)), status: 422, check: hasProblem("value_error.next_token")},
		{name: "next_token of another query", wire: get("/bonds?cost_center_id=other&limit=2&next_token=" + d.token), status: 422, check: hasProblem("value_error.next_token")},
		{name: "next_token of 9,000 characters", wire: get("/bonds?next_token=" + strings.Repeat("A", 9000)), status: 422, check: hasProblem("value_error.next_token")},
		{name: "next_token in standard base64", wire: get("/bonds?cost_center_id=cc&limit=2&next_token=" + url.QueryEscape(strings.NewReplacer("-", "+", "_", "/").Replace(d.token)+"==")), status: 422},
		{name: "next_token replayed as issued", wire: get("/bonds?cost_center_id=cc&limit=2&next_token=" + d.token), status: 200},

		// Methods and framing.
		{name: "TRACE", wire: "TRACE /bonds/B1 HTTP/1.1\r\nHost: localhost\r\n\r\n", status: 405},
		{name: "PATCH", wire: rawRequest(http.MethodPatch, "/bonds/B1", jsonType, `{}`), status: 405, check: func(t *testing.T, r hostileResult) {
			assert.Equal(t, "GET, HEAD, PUT, DELETE", r.header.Get("Allow"))
		}},
		{name: "lower-case get", wire: "get /bonds/B1 HTTP/1.1\r\nHost: localhost\r\n\r\n", status: 405},
		{name: "method of 10,000 characters", wire: strings.Repeat("M", 10_000) + " /bonds/B1 HTTP/1.1\r\nHost: localhost\r\n\r\n", status: 405},
		{name: "CONNECT", wire: "CONNECT 127.0.0.1:1 HTTP/1.1\r\nHost: 127.0.0.1:1\r\n\r\n", status: 404},
		// The target's authority, not Host, names the server (RFC 9112
		// section 3.2.2): a foreign one is misdirected, without keys.
		{name: "absolute-form target", wire: "GET http://evil.example/bonds/B1 HTTP/1.1\r\nHost: localhost\r\n\r\n", status: 421},
		{name: "absolute-form target of loopback", wire: "GET http://127.0.0.1:5000/bonds/B1 HTTP/1.1\r\nHost: evil.example\r\n\r\n", status: 200},
		// DNS rebinding: a page whose name now resolves to 127.0.0.1 sends
		// its own name; without keys only local names are served.
		{name: "rebound Host, GET /bonds", wire: "GET /bonds HTTP/1.1\r\nHost: rebind.attacker.example:5000\r\n\r\n", status: 421},
		{name: "rebound Host, POST /bonds", wire: "POST /bonds HTTP/1.1\r\nHost: rebind.attacker.example:5000\r\nContent-Type: application/json\r\nContent-Length: " +
			strconv.Itoa(len(bondBody("RB1", ""))) + "\r\n\r\n" + bondBody("RB1", ""), status: 421},
		{name: "Host LOCALHOST.:5000", wire: "GET /bonds/B1 HTTP/1.1\r\nHost: LOCALHOST.:5000\r\n\r\n", status: 200},
		{name: "Host [::1]:5000", wire: "GET /bonds/B1 HTTP/1.1\r\nHost: [::1]:5000\r\n\r\n", status: 200},
		{name: "Content-Length and Transfer-Encoding", wire: "POST /bonds/B1/subscribers HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n" +
			"Content-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n" + "b\r\n{\"sid\":\"u\"}\r\n0\r\n\r\n" +
			"GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n", status: 422, closes: true},
		{name: "Transfer-Encoding gzip", wire: rawRequest(http.MethodPost, "/bonds", append(slices.Clone(jsonType), "Transfer-Encoding: gzip"), "{}"), status: 501, expect: netHTTP},
		{name: "two Content-Lengths", wire: rawRequest(http.MethodPost, "/bonds", append(slices.Clone(jsonType), "Content-Length: 2", "Content-Length: 3"), "{}"), status: 400, expect: netHTTP},
		{name: "negative Content-Length", wire: rawRequest(http.MethodPost, "/bonds", append(slices.Clone(jsonType), "Content-Length: -1"), "{}"), status: 400, expect: netHTTP},
		{name: "body shorter than its Content-Length", wire: rawRequest(http.MethodPost, "/bonds", append(slices.Clone(jsonType), "Content-Length: 100"), "{}"), halfClose: true, status: 400},
		{name: "Expect other than 100-continue", wire: get("/bonds/B1", "Expect: teapot"), status: 417, expect: netHTTP},
		{name: "HTTP/9.9", wire: "GET /bonds/B1 HTTP/9.9\r\nHost: x\r\n\r\n", status: 505, expect: netHTTP},
		{name: "HTTP/1.0 without Host", wire: "GET /bonds/B1 HTTP/1.0\r\n\r\n", status: 200},

		// HEAD and preconditions.
		{name: "HEAD a bond", method: http.MethodHead, wire: rawRequest(http.MethodHead, "/bonds/B1", nil, ""), status: 200, check: func(t *testing.T, r hostileResult) {
			assert.Equal(t, `"1"`, r.header.Get("ETag"))
		}},
		{name: "HEAD a missing bond", method: http.MethodHead, wire: rawRequest(http.MethodHead, "/bonds/NOPE", nil, ""), status: 404},
		{name: "HEAD with a bad limit", method: http.MethodHead, wire: rawRequest(http.MethodHead, "/bonds?limit=-5", nil, ""), status: 422},
		{name: "HEAD with a body", method: http.MethodHead, wire: rawRequest(http.MethodHead, "/bonds/B1", jsonType, `{"x":1}`), status: 200},
		{name: "If-None-Match garbage", wire: get("/bonds/B1", "If-None-Match: \"unterminated, ,,W/x"), status: 200},
		{name: "If-Match garbage", wire: get("/bonds/B1", "If-Match: garbage"), status: 412},
		{name: "If-Match of 10,000 commas on PUT", wire: put("/bonds/B1", `{"host_cost_center":"x"}`, "If-Match: "+strings.Repeat(",", 10_000)), status: 412},
		{name: "If-Match of 2,000 entity tags on DELETE", wire: rawRequest(http.MethodDelete, "/bonds/B1", []string{"If-Match: " + strings.Repeat(`"9", `, 2000) + `"8"`}, ""), status: 412},
		{name: "weak If-Match on DELETE", wire: rawRequest(http.MethodDelete, "/bonds/B1", []string{`If-Match: W/"1"`}, ""), status: 412},
		{name: "If-None-Match * on PUT", wire: put("/bonds/B1", `{"host_cost_center":"x"}`, "If-None-Match: *"), status: 412},
		{name: "If-None-Match of the version", wire: get("/bonds/B1", `If-None-Match: "1"`), status: 304},
		{name: "If-Match on a missing bond", wire: get("/bonds/NOPE", `If-Match: "1"`), status: 404},
		{name: "If-Match with a control character", wire: get("/bonds/B1", "If-Match: \"1\x7f\""), status: 400, expect: netHTTP},
		{name: "If-Modified-Since garbage", wire: get("/bonds/B1", "If-Modified-Since: yesterday-ish"), status: 200},
		{name: "Range garbage", wire: get("/bonds/B1", "Range: bytes=-1-2-3,0-"), status: 200},
	}
	return c
}

// TestHostileCorpus runs the corpus against the real binary on each store,
// with the keys' cases on a second server that has API keys.
func TestHostileCorpus(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the real binary and sends the whole corpus; skipped with -short")
	}
	bin := serverBinary(t)
	t.Run("bolt", func(t *testing.T) {
		dir := t.TempDir()
		runCorpus(t, bin, func(name string) []string {
			return []string{"STORE=bolt", "BOLT_PATH=" + filepath.Join(dir, name+".db")}
		})
	})
	t.Run("dynamodb", func(t *testing.T) {
		client := dynamotest.Endpoint(t) // fails with CI=true when DynamoDB Local is missing
		endpoint := aws.ToString(client.Options().BaseEndpoint)
		runCorpus(t, bin, func(string) []string {
			return []string{"STORE=dynamodb", "DYNAMODB_ENDPOINT=" + endpoint, "DYNAMODB_TABLE=" + dynamotest.NewTable(t, client),
				"AWS_REGION=us-east-1", "AWS_ACCESS_KEY_ID=local", "AWS_SECRET_ACCESS_KEY=local", "AWS_EC2_METADATA_DISABLED=true"}
		})
	})
}

// corpusStats sums up a run.
type corpusStats struct {
	requests       int
	largest        int
	largestCase    string
	largestError   int
	largestErrCase string
	statuses       map[int]int
	mu             sync.Mutex
}

func (st *corpusStats) add(name string, r hostileResult) {
	st.mu.Lock()
	defer st.mu.Unlock()
	st.requests++
	st.statuses[r.status]++
	if r.bytes > st.largest {
		st.largest, st.largestCase = r.bytes, name
	}
	if r.status >= 400 && r.bytes > st.largestError {
		st.largestError, st.largestErrCase = r.bytes, name
	}
}

// runCorpus starts the servers of one store (storeEnv gives the store's
// settings for a server named by its argument) and sends them the corpus.
func runCorpus(t *testing.T, bin string, storeEnv func(name string) []string) {
	s := startHostileServer(t, bin, storeEnv("open")...)
	data := setUpCorpus(t, s)
	st := &corpusStats{statuses: map[int]int{}}

	// The slow clients run beside the corpus: each holds one connection
	// until the server's own timeout ends it.
	var slow sync.WaitGroup
	slowCase := func(c hostileCase) {
		slow.Add(1)
		go func() {
			defer slow.Done()
			r := s.exchange(c)
			st.add(c.name, r)
			t.Run(c.name, func(t *testing.T) { checkAnswer(t, c, r) })
			logCase(t, c.name, r)
		}()
	}
	// Header read timeout (5 s): net/http answers its plain-text 400. The
	// client sends four bytes, one a second, then waits: a byte sent after
	// the server closed would make its kernel answer with a reset, which can
	// discard the 400 before the client reads it (a flaky test, not a fault).
	slowCase(hostileCase{name: "slow headers (one byte a second)", chunks: strings.SplitAfter("GET ", ""),
		pause: time.Second, status: 400, expect: netHTTP})
	// The body is read until the read timeout (REQUEST_TIMEOUT + 5 s): a
	// JSON 400, and the connection closed.
	slowBody := rawRequest(http.MethodPost, "/bonds", jsonType, bondBody("SLOW", ""))
	slowCase(hostileCase{name: "slow body (one byte a second)", chunks: slices.Concat([]string{slowBody[:strings.Index(slowBody, "\r\n\r\n")+4]},
		strings.SplitAfter(slowBody[strings.Index(slowBody, "\r\n\r\n")+4:], "")), pause: time.Second, status: 400, closes: true, check: detailIs("The request body could not be read.")})

	for _, c := range hostileCases(data) {
		r := s.exchange(c)
		st.add(c.name, r)
		t.Run(c.name, func(t *testing.T) { checkAnswer(t, c, r) })
		logCase(t, c.name, r)
	}
	roundTrips(t, s, st)
	methodFlood(t, s, st)
	slow.Wait()
	inFlight(t, s, st)
	slowReaders(t, s, st)

	keyed(t, bin, storeEnv("keyed"), st)

	// Afterwards: the server answers, and its memory stayed bounded.
	for _, target := range []string{"/healthz", "/bonds/B1", "/bonds?limit=1000"} {
		r := s.exchange(hostileCase{wire: rawRequest(http.MethodGet, target, nil, "")})
		require.NoError(t, r.err, target)
		assert.Equal(t, http.StatusOK, r.status, "%s after the corpus", target)
	}
	peak, now, peakAnon := s.memory(t)
	t.Logf("SUMMARY %s: %d requests, statuses %v; largest response %d bytes (%s); largest error response %d bytes (%s); "+
		"peak RSS (VmHWM) %.1f MiB, RSS now %.1f MiB, largest RssAnon sampled %.1f MiB",
		t.Name(), st.requests, st.statuses, st.largest, st.largestCase, st.largestError, st.largestErrCase, mib(peak), mib(now), mib(peakAnon))
	assert.Less(t, peak, int64(maxPeakRSS), "peak RSS")
	assert.GreaterOrEqual(t, st.requests, 80+1000, "the corpus has at least 80 requests plus the method flood")
	s.noErrorLines(t)
}

// noErrorLines checks that the server logged no error: no 500, no panic
// (writeError and the recoverer log those at error level).
func (s *hostileServer) noErrorLines(t *testing.T) {
	t.Helper()
	logs, err := os.ReadFile(s.logPath)
	require.NoError(t, err)
	for line := range strings.SplitSeq(string(logs), "\n") {
		if line == "" {
			continue
		}
		var entry map[string]any
		require.NoError(t, json.Unmarshal([]byte(line), &entry), "a JSON log line: %.300s", line)
		level, ok := entry["log.level"].(string)
		require.True(t, ok, "an ECS log line has log.level: %.300s", line)
		assert.NotEqual(t, "error", level, "no internal error, no panic: %.300s", line)
	}
}

// logCase writes one line of the per-case table: status, response bytes,
// time to the answer.
func logCase(t *testing.T, name string, r hostileResult) {
	t.Helper()
	t.Logf("%-80s %3d %8d bytes %6.0f ms", name, r.status, r.bytes, float64(r.elapsed.Microseconds())/1000)
}

func mib(b int64) float64 { return float64(b) / (1 << 20) }

// roundTrips creates bonds and subscribers whose identifiers hold the
// characters URLs treat specially, and follows the URLs the service
// builds back to them.
func roundTrips(t *testing.T, s *hostileServer, st *corpusStats) {
	for _, id := range []string{"a#b", "a?b=c", "%2F", "a b", "..a", "a%", "ü€𝄞", "a\\b", "x;y"} {
		c := hostileCase{name: "round trip of bond_id " + strconv.Quote(id), wire: rawRequest(http.MethodPost, "/bonds", jsonType, bondBody(id, "")), status: 201}
		r := s.exchange(c)
		st.add(c.name, r)
		logCase(t, c.name, r)
		t.Run(c.name, func(t *testing.T) {
			checkAnswer(t, c, r)
			loc := r.header.Get("Location")
			g := s.exchange(hostileCase{wire: rawRequest(http.MethodGet, loc, nil, "")})
			st.add(c.name+" (GET Location)", g)
			require.Equal(t, http.StatusOK, g.status, "GET %s", loc)
			var b struct {
				BondID string `json:"bond_id"`
			}
			require.NoError(t, json.Unmarshal(g.body, &b))
			assert.Equal(t, id, b.BondID, "the Location %s leads to the bond", loc)
		})
	}
	for _, sid := range []string{"x/y", "a#b", "q?r"} {
		c := hostileCase{name: "round trip of sid " + strconv.Quote(sid), wire: rawRequest(http.MethodPost, "/bonds/B1/subscribers", jsonType,
			strings.SplitN(subscriberJSON(sid, "N", "n@example.com"), ":", 2)[1]), status: 200}
		r := s.exchange(c)
		st.add(c.name, r)
		logCase(t, c.name, r)
		t.Run(c.name, func(t *testing.T) {
			checkAnswer(t, c, r)
			g := s.exchange(hostileCase{wire: rawRequest(http.MethodGet, "/bonds/B1/subscribers/"+url.PathEscape(sid), nil, "")})
			st.add(c.name+" (GET)", g)
			require.Equal(t, http.StatusOK, g.status)
			assert.Contains(t, string(g.body), `"sid":`+strconv.Quote(sid))
		})
	}
}

// methodFlood sends 1,000 random method tokens (each once became a
// metric label value) on two keep-alive connections, and then checks that
// /metrics stayed small.
func methodFlood(t *testing.T, s *hostileServer, st *corpusStats) {
	const tchar = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789!#$%&'*+-.^_`|~"
	rng := rand.New(rand.NewPCG(10, 7))
	methods := make([]string, 0, 1000)
	for len(methods) < 1000 {
		b := make([]byte, 4+rng.IntN(16))
		for i := range b {
			b[i] = tchar[rng.IntN(len(tchar))]
		}
		m := string(b)
		if slices.Contains([]string{"DELETE", "OPTIONS", "CONNECT", "PATCH", "TRACE", "HEAD", "POST"}, m) {
			continue
		}
		methods = append(methods, m)
	}
	var (
		wg      sync.WaitGroup
		mu      sync.Mutex
		bad     []string
		largest int
	)
	for w := range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			conn, err := net.DialTimeout("tcp", s.addr, 5*time.Second)
			if err != nil {
				mu.Lock()
				bad = append(bad, err.Error())
				mu.Unlock()
				return
			}
			defer conn.Close()
			_ = conn.SetDeadline(time.Now().Add(2 * hangTimeout))
			cr := &countingReader{r: conn}
			br := bufio.NewReader(cr)
			for i := w; i < len(methods); i += 2 {
				before := cr.n.Load() - int64(br.Buffered())
				target := "/bonds/B1"
				want := http.StatusMethodNotAllowed
				if i%4 < 2 {
					target, want = "/no/such/path", http.StatusNotFound
				}
				_, err := io.WriteString(conn, methods[i]+" "+target+" HTTP/1.1\r\nHost: localhost\r\n\r\n")
				var res *http.Response
				if err == nil {
					res, err = http.ReadResponse(br, nil)
				}
				var body []byte
				if err == nil {
					body, err = io.ReadAll(io.LimitReader(res.Body, maxErrorResponse+1))
					res.Body.Close()
				}
				n := int(cr.n.Load() - int64(br.Buffered()) - before)
				mu.Lock()
				largest = max(largest, n)
				switch {
				case err != nil:
					bad = append(bad, fmt.Sprintf("%q: %v", methods[i], err))
				case res.StatusCode != want || res.Header.Get("Content-Type") != "application/json" || !bytes.Contains(body, []byte(`"detail"`)):
					bad = append(bad, fmt.Sprintf("%q %s: %d %q %.100q", methods[i], target, res.StatusCode, res.Header.Get("Content-Type"), body))
				}
				st.add("random methods", hostileResult{status: want, bytes: n})
				mu.Unlock()
				if err != nil {
					return
				}
			}
		}()
	}
	wg.Wait()
	assert.Empty(t, bad, "every random method gets a JSON 404 or 405")
	assert.LessOrEqual(t, largest, maxErrorResponse)
	t.Logf("%-80s 404/405 %8d bytes (the largest of 1,000)", "1,000 random methods", largest)

	r := s.exchange(hostileCase{wire: rawRequest(http.MethodGet, "/metrics", nil, "")})
	require.Equal(t, http.StatusOK, r.status)
	labels := map[string]bool{}
	for line := range strings.SplitSeq(string(r.body), "\n") {
		if m := regexp.MustCompile(`^http_requests_total\{.*method="([^"]*)"`).FindStringSubmatch(line); m != nil {
			labels[m[1]] = true
		}
	}
	assert.Contains(t, labels, "OTHER", "random methods count as OTHER")
	assert.LessOrEqual(t, len(labels), 11, "method labels come from a closed set: %v", labels)
	assert.Less(t, len(r.body), 256<<10, "/metrics stays small")
	t.Logf("%-80s %3d %8d bytes, method labels %v", "/metrics after the flood", r.status, len(r.body), slices.Sorted(maps.Keys(labels)))
}

// inFlight fills MAX_IN_FLIGHT with requests whose bodies never come, and
// checks that one more is a clean 503 while the probes still answer; the
// held requests end when their clients leave. A held request that was
// itself refused (the slot of an earlier request is given back a moment
// after its answer) is answered at once and replaced.
func inFlight(t *testing.T, s *hostileServer, st *corpusStats) {
	held := make([]net.Conn, corpusMaxInFlight)
	defer func() {
		for _, c := range held {
			if c != nil {
				c.Close()
			}
		}
	}()
	hold := func(i int) {
		if held[i] != nil {
			held[i].Close()
		}
		conn, err := net.DialTimeout("tcp", s.addr, 5*time.Second)
		require.NoError(t, err)
		held[i] = conn
		_, err = io.WriteString(conn, "POST /bonds HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{")
		require.NoError(t, err)
	}
	answered := func(conn net.Conn) bool {
		_ = conn.SetReadDeadline(time.Now().Add(10 * time.Millisecond))
		var b [1]byte
		_, err := conn.Read(b[:])
		var ne net.Error
		return !(errors.As(err, &ne) && ne.Timeout())
	}
	for i := range held {
		hold(i)
	}
	var r hostileResult
	c := hostileCase{name: fmt.Sprintf("request %d while %d are in flight", corpusMaxInFlight+1, corpusMaxInFlight),
		wire: rawRequest(http.MethodGet, "/bonds/B1", nil, ""), status: 503, check: detailIs("The service is busy. Retry later.")}
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if r = s.exchange(c); r.status == http.StatusServiceUnavailable {
			break
		}
		for i, conn := range held {
			if answered(conn) {
				hold(i)
			}
		}
	}
	st.add(c.name, r)
	logCase(t, c.name, r)
	t.Run(c.name, func(t *testing.T) { checkAnswer(t, c, r) })
	h := hostileCase{name: "/healthz while the in-flight limit is reached", wire: rawRequest(http.MethodGet, "/healthz", nil, ""), status: 200}
	hr := s.exchange(h)
	st.add(h.name, hr)
	logCase(t, h.name, hr)
	t.Run(h.name, func(t *testing.T) { checkAnswer(t, h, hr) })
}

// slowReaders sends MAX_IN_FLIGHT requests for the largest page and reads
// nothing (a 1 KiB receive buffer, so that the kernel does not take the
// page off the server's hands) until the server's write timeout
// (REQUEST_TIMEOUT + 5 s) has ended each response; then it reads what came.
// Every request was answered 200 or 503 with Retry-After (the page budget),
// and the server's peak RSS stays bounded (runCorpus). The issue it
// reproduces: 120 such clients of 5 MB pages took the process to 1.4 GiB.
func slowReaders(t *testing.T, s *hostileServer, st *corpusStats) {
	before, _, _ := s.memory(t)
	conns := make([]*net.TCPConn, corpusMaxInFlight)
	for i := range conns {
		conn, err := net.DialTimeout("tcp", s.addr, 5*time.Second)
		require.NoError(t, err)
		tcp := conn.(*net.TCPConn)
		require.NoError(t, tcp.SetReadBuffer(1024))
		defer func() { _ = tcp.Close() }()
		_, err = io.WriteString(tcp, rawRequest(http.MethodGet, widePage, nil, ""))
		require.NoError(t, err)
		conns[i] = tcp
	}
	h := hostileCase{name: "/healthz while slow readers hold the largest pages", wire: rawRequest(http.MethodGet, "/healthz", nil, ""), status: 200}
	hr := s.exchange(h)
	st.add(h.name, hr)
	t.Run(h.name, func(t *testing.T) { checkAnswer(t, h, hr) })
	time.Sleep(corpusRequestTimeout + 6*time.Second) // the server's write timeout, and a second
	statuses := map[int]int{}
	for _, conn := range conns {
		_ = conn.SetReadDeadline(time.Now().Add(hangTimeout))
		cr := &countingReader{r: conn}
		res, err := http.ReadResponse(bufio.NewReader(cr), nil)
		require.NoError(t, err, "a status line and headers")
		// To the end of the body, or as far as it came before the server
		// gave up on the client.
		_, _ = io.Copy(io.Discard, res.Body)
		statuses[res.StatusCode]++
		if res.StatusCode == http.StatusServiceUnavailable {
			assert.Equal(t, "1", res.Header.Get("Retry-After"))
		} else {
			assert.Equal(t, http.StatusOK, res.StatusCode)
		}
		st.add("slow reader of the largest page", hostileResult{status: res.StatusCode, bytes: int(cr.n.Load())})
	}
	peak, now, _ := s.memory(t)
	t.Logf("%d slow readers of %s: statuses %v; peak RSS (VmHWM) %.1f MiB before, %.1f MiB after, RSS now %.1f MiB",
		len(conns), widePage, statuses, mib(before), mib(peak), mib(now))
}

// keyed runs the access cases on a second server of the same store that
// has API keys: a reader (bonds:read) and a writer (both scopes).
func keyed(t *testing.T, bin string, env []string, st *corpusStats) {
	readKey, reader, err := apikey.Generate("reader", []string{apikey.ScopeRead})
	require.NoError(t, err)
	writeKey, writer, err := apikey.Generate("writer", []string{apikey.ScopeRead, apikey.ScopeWrite})
	require.NoError(t, err)
	s := startHostileServer(t, bin, append(env, "API_KEYS="+reader.Line()+";"+writer.Line())...)
	r := s.exchange(hostileCase{wire: rawRequest(http.MethodPost, "/bonds", append(slices.Clone(jsonType), "Authorization: Bearer "+writeKey), bondBody("K1", ""))})
	require.Equal(t, http.StatusCreated, r.status, "set-up: %.300q", r.body)

	challenge := func(t *testing.T, r hostileResult) {
		assert.Contains(t, r.header.Get("WWW-Authenticate"), `Bearer realm="bond-registry"`)
	}
	auth := func(v string) []string { return []string{"Authorization: " + v} }
	cases := []hostileCase{
		{name: "keyed: no key", wire: rawRequest(http.MethodGet, "/bonds/K1", nil, ""), status: 401, check: challenge},
		{name: "keyed: no key on /bonds", wire: rawRequest(http.MethodGet, "/bonds", nil, ""), status: 401, check: challenge},
		{name: "keyed: no key on DELETE", wire: rawRequest(http.MethodDelete, "/bonds/K1", nil, ""), status: 401, check: challenge},
		{name: "keyed: no key on /metrics", wire: rawRequest(http.MethodGet, "/metrics", nil, ""), status: 401},
		{name: "keyed: wrong key", wire: rawRequest(http.MethodGet, "/bonds/K1", auth("Bearer brk_AAAAAAAAAAAAAAAAAAAAAAAAAA"), ""), status: 401, check: challenge},
		{name: "keyed: wrong X-API-Key", wire: rawRequest(http.MethodGet, "/bonds/K1", []string{"X-API-Key: nope"}, ""), status: 401},
		{name: "keyed: empty Bearer", wire: rawRequest(http.MethodGet, "/bonds/K1", auth("Bearer "), ""), status: 401},
		{name: "keyed: Basic scheme", wire: rawRequest(http.MethodGet, "/bonds/K1", auth("Basic "+base64.StdEncoding.EncodeToString([]byte("a:"+writeKey))), ""), status: 401},
		{name: "keyed: key of 20,000 characters", wire: rawRequest(http.MethodGet, "/bonds/K1", auth("Bearer "+strings.Repeat("k", 20_000)), ""), status: 401},
		{name: "keyed: key with a prefix of the right one", wire: rawRequest(http.MethodGet, "/bonds/K1", auth("Bearer "+writeKey[:len(writeKey)-1]), ""), status: 401},
		{name: "keyed: key with a control character", wire: rawRequest(http.MethodGet, "/bonds/K1", auth("Bearer "+writeKey+"\x01"), ""), status: 400, expect: netHTTP},
		// One credential a request (RFC 9110 section 5.3): the first line no
		// longer decides.
		{name: "keyed: two Authorization headers, the first wrong", wire: rawRequest(http.MethodGet, "/bonds/K1", append(auth("Bearer nope"), auth("Bearer "+readKey)...), ""), status: 400},
		{name: "keyed: two Authorization headers, the first right", wire: rawRequest(http.MethodGet, "/bonds/K1", append(auth("Bearer "+readKey), auth("Bearer nope")...), ""), status: 400},
		{name: "keyed: two X-API-Key headers", wire: rawRequest(http.MethodGet, "/bonds/K1", []string{"X-API-Key: " + readKey, "X-API-Key: " + writeKey}, ""), status: 400},
		{name: "keyed: Authorization and X-API-Key disagree", wire: rawRequest(http.MethodGet, "/bonds/K1", append(auth("Bearer "+readKey), "X-API-Key: "+writeKey), ""), status: 400},
		{name: "keyed: rebound Host (the key decides)", wire: "GET /bonds/K1 HTTP/1.1\r\nHost: rebind.attacker.example:5000\r\nAuthorization: Bearer " + readKey + "\r\n\r\n", status: 200},
		{name: "keyed: read key on POST", wire: rawRequest(http.MethodPost, "/bonds", append(slices.Clone(jsonType), "Authorization: Bearer "+readKey), bondBody("K2", "")), status: 403},
		{name: "keyed: read key on DELETE", wire: rawRequest(http.MethodDelete, "/bonds/K1", []string{"X-API-Key: " + readKey}, ""), status: 403},
		{name: "keyed: read key, hostile body", wire: rawRequest(http.MethodPost, "/bonds", append(slices.Clone(jsonType), "Authorization: Bearer "+readKey), longKeyBody(32_000, 1000)), status: 403},
		{name: "keyed: no key, body over 1 MiB", wire: rawRequest(http.MethodPost, "/bonds", jsonType, `{"x":"`+strings.Repeat("a", 2<<20)+`"}`), status: 401},
		{name: "keyed: lower-case bearer, read key", wire: rawRequest(http.MethodGet, "/bonds/K1", auth("bearer "+readKey), ""), status: 200},
		{name: "keyed: write key, hostile body", wire: rawRequest(http.MethodPost, "/bonds", append(slices.Clone(jsonType), "Authorization: Bearer "+writeKey), longKeyBody(32_000, 1000)), status: 422},
		{name: "keyed: no key on /healthz", wire: rawRequest(http.MethodGet, "/healthz", nil, ""), status: 200},
		{name: "keyed: no key on /openapi.json", wire: rawRequest(http.MethodGet, "/openapi.json", nil, ""), status: 200},
	}
	for _, c := range cases {
		r := s.exchange(c)
		st.add(c.name, r)
		t.Run(c.name, func(t *testing.T) { checkAnswer(t, c, r) })
		logCase(t, c.name, r)
	}
	r = s.exchange(hostileCase{wire: rawRequest(http.MethodGet, "/bonds/K1", auth("Bearer "+readKey), "")})
	assert.Equal(t, http.StatusOK, r.status, "the keyed server still answers")
	peak, _, _ := s.memory(t)
	t.Logf("keyed server: peak RSS (VmHWM) %.1f MiB", mib(peak))
	assert.Less(t, peak, int64(maxPeakRSS), "peak RSS of the keyed server")
	s.noErrorLines(t)
}

// invalidSubscribersBody is a create body with n subscribers whose e-mail is
// invalid: n problems, more than a 422 lists.
func invalidSubscribersBody(n int) string {
	var subs []string
	for i := range n {
		subs = append(subs, fmt.Sprintf(`"s%04d":{"sid":"s%04d","name":"N","email":"not-an-email"}`, i, i))
	}
	return `{"bond_id":"B9","host_account_id":"H9","sub_account_id":"S9","host_cost_center":"c","sub_cost_center":"d",` +
		`"subscribers":{` + strings.Join(subs, ",") + `}}`
}
