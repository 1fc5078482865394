package httpapi_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/rs/zerolog"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bondregistry/bond-registry/internal/apikey"
	"github.com/bondregistry/bond-registry/internal/bond"
	"github.com/bondregistry/bond-registry/internal/bond/bondfake"
	"github.com/bondregistry/bond-registry/internal/httpapi"
	"github.com/bondregistry/bond-registry/internal/idempotency"
	"github.com/bondregistry/bond-registry/internal/metrics"
	"github.com/bondregistry/bond-registry/internal/openapicheck"
)

// The operations of api/openapi.yaml, each as the happy request the
// contract test starts from: against a store holding B1 (subscriber bob, at
// version 1 and revision 1), it succeeds.
var happy = map[string]statusRequest{
	"GET /health_check": {path: "/health_check"},
	"GET /healthz":      {path: "/healthz"},
	"GET /readyz":       {path: "/readyz"},
	"GET /bonds":        {path: "/bonds"},
	"POST /bonds": {method: http.MethodPost, path: "/bonds",
		body: `{"bond_id":"B2","host_account_id":"H2","sub_account_id":"S2","host_cost_center":"c","sub_cost_center":"d"}`},
	"GET /bonds/{bond_id}":    {path: "/bonds/B1"},
	"PUT /bonds/{bond_id}":    {method: http.MethodPut, path: "/bonds/B1", body: `{"host_cost_center":"red"}`},
	"DELETE /bonds/{bond_id}": {method: http.MethodDelete, path: "/bonds/B1"},

	"GET /bonds/{bond_id}/subscribers": {path: "/bonds/B1/subscribers"},
	"POST /bonds/{bond_id}/subscribers": {method: http.MethodPost, path: "/bonds/B1/subscribers",
		body: `{"sid":"amy","name":"Amy","email":"amy@example.com"}`},
	"GET /bonds/{bond_id}/subscribers/{sid}":    {path: "/bonds/B1/subscribers/bob"},
	"DELETE /bonds/{bond_id}/subscribers/{sid}": {method: http.MethodDelete, path: "/bonds/B1/subscribers/bob"},

	"GET /bonds/{bond_id}/revisions":                     {path: "/bonds/B1/revisions"},
	"GET /bonds/{bond_id}/revisions/{revision}":          {path: "/bonds/B1/revisions/1"},
	"POST /bonds/{bond_id}/revisions/{revision}/restore": {method: http.MethodPost, path: "/bonds/B1/revisions/1/restore"},

	"GET /metrics":      {path: "/metrics"},
	"GET /openapi.json": {path: "/openapi.json"},
	"GET /openapi.yaml": {path: "/openapi.yaml"},
}

// unreachable are the statuses the document lists that no request can
// produce, with why they are listed all the same.
var unreachable = map[string]string{
	"GET /health_check 500": "every failure of the store check is a 503 (ping); listed for a bug, answered by the recoverer",
	"GET /readyz 500":       "every failure of the store check is a 503 (ping); listed for a bug, answered by the recoverer",
	"GET /metrics 500":      "no store call and no input; listed for a bug, answered by the recoverer",
	"GET /openapi.json 500": "a fixed document; listed for a bug, answered by the recoverer",
	"GET /openapi.yaml 500": "a fixed document; listed for a bug, answered by the recoverer",
}

// Groups of operations, by what they do.
var (
	probes    = []string{"GET /health_check", "GET /healthz", "GET /readyz"}
	documents = []string{"GET /metrics", "GET /openapi.json", "GET /openapi.yaml"}
	// withBody are the operations that read a JSON body.
	withBody = []string{"POST /bonds", "PUT /bonds/{bond_id}", "POST /bonds/{bond_id}/subscribers"}
	// posts take an Idempotency-Key.
	posts = []string{"POST /bonds", "POST /bonds/{bond_id}/subscribers", "POST /bonds/{bond_id}/revisions/{revision}/restore"}
	// preconditioned take If-Match.
	preconditioned = []string{"GET /bonds/{bond_id}", "PUT /bonds/{bond_id}", "DELETE /bonds/{bond_id}",
		"GET /bonds/{bond_id}/subscribers", "POST /bonds/{bond_id}/subscribers", "GET /bonds/{bond_id}/subscribers/{sid}",
		"DELETE /bonds/{bond_id}/subscribers/{sid}", "POST /bonds/{bond_id}/revisions/{revision}/restore",
		"GET /bonds/{bond_id}/revisions/{revision}"}
	// conditionalReads answer If-None-Match with 304.
	conditionalReads = []string{"GET /bonds/{bond_id}", "GET /bonds/{bond_id}/subscribers", "GET /bonds/{bond_id}/subscribers/{sid}",
		"GET /bonds/{bond_id}/revisions/{revision}"}
	// writes need bonds:write; the other guarded operations bonds:read.
	writes = []string{"POST /bonds", "PUT /bonds/{bond_id}", "DELETE /bonds/{bond_id}", "POST /bonds/{bond_id}/subscribers",
		"DELETE /bonds/{bond_id}/subscribers/{sid}", "POST /bonds/{bond_id}/revisions/{revision}/restore"}
)

// statusRequest is one request of the contract test.
type statusRequest struct {
	method, path, body string
	host               string      // the Host header; empty: the server's address
	header             http.Header // added to the request (Add: a name may repeat)
	brokenBody         bool        // the body fails to read after its first bytes (sent in-process)
}

// statusServer is the kind of server a request is sent to.
type statusServer int

const (
	plainServer      statusServer = iota // bolt, no keys, metrics on
	withKeysServer                       // bolt with API keys (statusKeys)
	downServer                           // every store call is unavailable
	brokenServer                         // every store call fails for no known reason
	unreadableServer                     // every stored bond is unreadable
	noMetricsServer                      // Config.Metrics nil
	busyServer                           // MaxInFlight 1, and one request holds it
)

// statusKeys are the keys of withKeysServer.
type statusKeys struct {
	set                 *apikey.Set
	read, write, admin  string
	readOnly, writeOnly http.Header
}

// scenario is a way to make an operation answer a status: which
// operations it applies to, the server, the request made from the happy one.
type scenario struct {
	name   string
	status int // 0: any 2xx
	ops    []string
	server statusServer
	change func(r *statusRequest, op string, k statusKeys)
}

func allBut(except ...[]string) []string {
	var ops []string
	for op := range happy {
		if !slices.ContainsFunc(except, func(e []string) bool { return slices.Contains(e, op) }) {
			ops = append(ops, op)
		}
	}
	slices.Sort(ops)
	return ops
}

func header(kv ...string) http.Header {
	h := http.Header{}
	for i := 0; i < len(kv); i += 2 {
		h.Add(kv[i], kv[i+1])
	}
	return h
}

// swapPath swaps the happy request's bond_id (B1) or sid (bob).
func swapPath(r *statusRequest, old, new string) {
	r.path = strings.Replace(r.path, old, new, 1)
}

var scenarios = []scenario{
	{name: "success", ops: allBut(), server: plainServer},
	{name: "header fields over MAX_HEADER_BYTES", status: http.StatusRequestHeaderFieldsTooLarge, ops: allBut(),
		change: func(r *statusRequest, _ string, _ statusKeys) {
			r.header = header("X-Padding", strings.Repeat("p", 40<<10))
		}},
	{name: "a rebound Host without keys", status: http.StatusMisdirectedRequest, ops: allBut(),
		change: func(r *statusRequest, _ string, _ statusKeys) { r.host = "rebind.attacker.example:5000" }},
	{name: "no key", status: http.StatusUnauthorized, ops: allBut(probes), server: withKeysServer},
	{name: "a key without the scope", status: http.StatusForbidden, ops: allBut(probes), server: withKeysServer,
		change: func(r *statusRequest, op string, k statusKeys) {
			r.header = k.writeOnly
			if slices.Contains(writes, op) {
				r.header = k.readOnly
			}
		}},
	{name: "two credentials", status: http.StatusBadRequest, ops: allBut(probes), server: withKeysServer,
		change: func(r *statusRequest, _ string, k statusKeys) {
			r.header = header("Authorization", "Bearer "+k.admin, "Authorization", "Bearer "+k.read)
		}},
	{name: "the store down", status: http.StatusServiceUnavailable, ops: allBut(documents, []string{"GET /healthz"}), server: downServer},
	{name: "MAX_IN_FLIGHT reached", status: http.StatusServiceUnavailable, ops: allBut(probes), server: busyServer},
	{name: "the store fails", status: http.StatusInternalServerError, ops: allBut(probes, documents), server: brokenServer},
	{name: "the stored bond is unreadable", status: http.StatusConflict, ops: allBut(probes, documents, []string{"POST /bonds"}), server: unreadableServer},
	{name: "the bond_id is taken", status: http.StatusConflict, ops: []string{"POST /bonds"},
		change: func(r *statusRequest, _ string, _ statusKeys) { r.body = strings.Replace(r.body, `"B2"`, `"B1"`, 1) }},
	{name: "no such bond", status: http.StatusNotFound,
		ops: slices.DeleteFunc(allBut(probes, documents, []string{"GET /bonds", "POST /bonds"}),
			func(op string) bool { return op == "DELETE /bonds/{bond_id}" }), // deleting what is absent is done: 204
		change: func(r *statusRequest, _ string, _ statusKeys) { swapPath(r, "B1", "NOPE") }},
	{name: "no such subscriber", status: http.StatusNotFound, ops: []string{"GET /bonds/{bond_id}/subscribers/{sid}"},
		change: func(r *statusRequest, _ string, _ statusKeys) { swapPath(r, "bob", "nobody") }},
	{name: "no metrics", status: http.StatusNotFound, ops: []string{"GET /metrics"}, server: noMetricsServer},
	{name: "a bond_id past its length", status: http.StatusUnprocessableEntity,
		ops:    allBut(probes, documents, []string{"GET /bonds", "POST /bonds"}),
		change: func(r *statusRequest, _ string, _ statusKeys) { swapPath(r, "B1", strings.Repeat("b", 300)) }},
	{name: "an unknown query parameter", status: http.StatusUnprocessableEntity, ops: []string{"GET /bonds"},
		change: func(r *statusRequest, _ string, _ statusKeys) { r.path += "?host_cost_center=olive" }},
	{name: "a body without its fields", status: http.StatusUnprocessableEntity, ops: []string{"POST /bonds"},
		change: func(r *statusRequest, _ string, _ statusKeys) { r.body = `{}` }},
	{name: "If-Match of no version", status: http.StatusPreconditionFailed, ops: preconditioned,
		change: func(r *statusRequest, _ string, _ statusKeys) { r.header = header("If-Match", `"99"`) }},
	{name: "If-None-Match of the version", status: http.StatusNotModified, ops: conditionalReads,
		change: func(r *statusRequest, _ string, _ statusKeys) { r.header = header("If-None-Match", `"1"`) }},
	{name: "a body over 1 MiB", status: http.StatusRequestEntityTooLarge, ops: withBody,
		change: func(r *statusRequest, _ string, _ statusKeys) {
			r.body = `{"x":"` + strings.Repeat("a", 1<<20) + `"}`
		}},
	{name: "a body of another type", status: http.StatusUnsupportedMediaType, ops: withBody,
		change: func(r *statusRequest, _ string, _ statusKeys) { r.header = header("Content-Type", "text/plain") }},
	{name: "an unreadable body", status: http.StatusBadRequest, ops: withBody,
		change: func(r *statusRequest, _ string, _ statusKeys) { r.brokenBody = true }},
	{name: "an Idempotency-Key past 255 characters", status: http.StatusBadRequest, ops: posts,
		change: func(r *statusRequest, _ string, _ statusKeys) {
			r.header = header("Idempotency-Key", strings.Repeat("k", 256))
		}},
}

// TestContract_EveryStatus makes every operation of api/openapi.yaml answer
// every status the service can send it, each exchange checked against the
// document (status, headers, body: internal/openapicheck); then it checks
// the reverse, that every status the document lists for an operation was
// produced here, or is in unreachable with the reason. 404 and 405 with
// Allow, answered for requests the document has no operation for, are
// produced for an unknown path and on every path.
func TestContract_EveryStatus(t *testing.T) {
	v := openapicheck.New(t)
	documented := v.Operations()
	ops := slices.Sorted(func(yield func(string) bool) {
		for op := range documented {
			if !yield(op) {
				return
			}
		}
	})
	require.ElementsMatch(t, ops, allBut(), "happy has one request per operation of the document")
	keys := newStatusKeys(t)

	produced := map[string]bool{} // "METHOD /path status"
	for _, sc := range scenarios {
		for _, op := range sc.ops {
			t.Run(sc.name+"/"+op, func(t *testing.T) {
				r, ok := happy[op]
				require.True(t, ok, "scenario %q names an operation the document lacks: %s", sc.name, op)
				if sc.change != nil {
					sc.change(&r, op, keys)
				}
				req, res, body := sendStatusRequest(t, newStatusServer(t, sc.server, keys), r)
				if got, ok := v.Operation(req); assert.True(t, ok, "no operation for %s %s", req.Method, req.URL.Path) {
					assert.Equal(t, op, got, "the request is for its operation")
				}
				if sc.status == 0 {
					assert.Equal(t, 2, res.StatusCode/100, "a success; body: %.300s", body)
				} else {
					assert.Equal(t, sc.status, res.StatusCode, "body: %.300s", body)
				}
				v.Check(t, req, res, body)
				produced[fmt.Sprintf("%s %d", op, res.StatusCode)] = true
			})
		}
	}

	t.Run("405 with Allow on every path", func(t *testing.T) {
		for _, path := range v.Paths() {
			r := statusRequest{method: http.MethodPatch, path: strings.NewReplacer("{bond_id}", "B1", "{sid}", "bob", "{revision}", "1").Replace(path)}
			req, res, body := sendStatusRequest(t, newStatusServer(t, plainServer, keys), r)
			assert.Equal(t, http.StatusMethodNotAllowed, res.StatusCode, "PATCH %s", path)
			assert.NotEmpty(t, res.Header.Get("Allow"), "PATCH %s", path)
			v.Check(t, req, res, body) // Allow lists the path's methods, as the document has them
		}
	})
	t.Run("404 for an unknown path", func(t *testing.T) {
		req, res, body := sendStatusRequest(t, newStatusServer(t, plainServer, keys), statusRequest{path: "/no/such/path"})
		assert.Equal(t, http.StatusNotFound, res.StatusCode)
		v.Check(t, req, res, body)
	})

	t.Run("every documented status is produced", func(t *testing.T) {
		for _, op := range ops {
			for _, status := range documented[op] {
				key := fmt.Sprintf("%s %d", op, status)
				_, skipped := unreachable[key]
				assert.True(t, produced[key] != skipped, "%s: produced %v, listed as unreachable %v", key, produced[key], skipped)
			}
		}
		for key := range unreachable {
			i := strings.LastIndex(key, " ")
			status, err := strconv.Atoi(key[i+1:])
			require.NoError(t, err, key)
			assert.Contains(t, documented[key[:i]], status, "unreachable names a status the document lists: %s", key)
		}
	})
}

func newStatusKeys(t *testing.T) statusKeys {
	t.Helper()
	set, read, write, admin := testKeys(t)
	return statusKeys{set: set, read: read, write: write, admin: admin,
		readOnly: header("Authorization", "Bearer "+read), writeOnly: header("X-API-Key", write)}
}

// newStatusServer returns the handler of a fresh server of the kind asked
// for, in front of a bolt store holding B1.
func newStatusServer(t *testing.T, kind statusServer, keys statusKeys) http.Handler {
	t.Helper()
	inner := newBoltRepo(t)
	_, err := bond.Create(t.Context(), inner, bond.Bond{BondID: "B1", HostAccountID: "H1", SubAccountID: "S1",
		HostCostCenter: "c", SubCostCenter: "d",
		Subscribers: map[string]bond.Subscriber{"bob": {SID: "bob", Name: "Bob", Email: "bob@example.com"}}})
	require.NoError(t, err)
	cfg := httpapi.Config{Metrics: metrics.New("test"), Idempotency: inner.(idempotency.Provider).Idempotency()}
	var repo bond.Repository = inner
	switch kind {
	case plainServer:
	case withKeysServer:
		cfg.APIKeys = keys.set
	case downServer:
		repo = failing(inner, bond.Unavailable("get item", errors.New("connection refused")), false)
	case brokenServer:
		repo = failing(inner, errors.New("read page 7: checksum mismatch"), false)
	case unreadableServer:
		unreadable := bond.ErrUnreadable("B1", "subscribers: a list entry has no sid")
		repo = &bondfake.Repo{Repository: inner,
			ReadFn: func(context.Context, string) (bond.Bond, bool, error) { return bond.Bond{}, false, unreadable },
			ListFn: func(context.Context, bond.Filter, string, int, func(bond.Bond, func() string) bool) error {
				return unreadable
			},
			ReadRevisionFn: func(context.Context, string, int64) (bond.Revision, bool, error) {
				return bond.Revision{}, false, unreadable
			},
			ListRevisionsFn: func(context.Context, string, int64, int, func(bond.Revision) bool) error { return unreadable },
		}
	case noMetricsServer:
		cfg.Metrics = nil
	case busyServer:
		held, release := make(chan struct{}), make(chan struct{})
		repo = &bondfake.Repo{Repository: inner, ReadFn: func(ctx context.Context, id string) (bond.Bond, bool, error) {
			if id == "HOLD" {
				close(held)
				<-release
			}
			return inner.Read(ctx, id)
		}}
		cfg.MaxInFlight = 1
		h := httpapi.NewServer(zerolog.Nop(), repo, cfg)
		done := make(chan struct{})
		go func() {
			defer close(done)
			hold := httptest.NewRequest(http.MethodGet, "/bonds/HOLD", nil)
			hold.Host = "127.0.0.1" // a local caller
			h.ServeHTTP(httptest.NewRecorder(), hold)
		}()
		<-held
		t.Cleanup(func() { close(release); <-done })
		return h
	}
	return httpapi.NewServer(zerolog.Nop(), repo, cfg)
}

// sendStatusRequest sends r to h on a server on 127.0.0.1 (in-process for
// a broken body, which a client cannot send) and returns the request as
// sent (GetBody set), the response and its body.
func sendStatusRequest(t *testing.T, h http.Handler, r statusRequest) (*http.Request, *http.Response, []byte) {
	t.Helper()
	if r.method == "" {
		r.method = http.MethodGet
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	req, err := http.NewRequestWithContext(t.Context(), r.method, srv.URL+r.path, strings.NewReader(r.body))
	require.NoError(t, err)
	if r.body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for name, values := range r.header {
		req.Header.Del(name)
		for _, value := range values {
			req.Header.Add(name, value)
		}
	}
	if r.host != "" {
		req.Host = r.host
	}
	var res *http.Response
	if r.brokenBody {
		in := req.Clone(t.Context())
		in.RequestURI = r.path
		in.Body = io.NopCloser(io.MultiReader(strings.NewReader(r.body[:1]), iotest.ErrReader(errors.New("connection reset by peer"))))
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, in)
		res = rec.Result()
	} else {
		res, err = srv.Client().Do(req)
		require.NoError(t, err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	require.NoError(t, err)
	res.Body = io.NopCloser(bytes.NewReader(body))
	return req, res, body
}
