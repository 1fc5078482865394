package openapicheck_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bondregistry/bond-registry/internal/openapicheck"
)

// recorder is a testing.TB that records failures instead of failing, to
// prove that Check reports them.
type recorder struct {
	testing.TB
	mu     sync.Mutex
	failed []string
}

func (r *recorder) Helper() {}

func (r *recorder) Errorf(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.failed = append(r.failed, fmt.Sprintf(format, args...))
}

func (r *recorder) Fatalf(format string, args ...any) { r.Errorf(format, args...) }

func (r *recorder) messages() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return strings.Join(r.failed, "\n")
}

const fooJSON = `{"bond_id":"FOO","host_account_id":"TAPV54703350425479","sub_account_id":"IMII87361536320662",` +
	`"host_cost_center":"olive","sub_cost_center":"blue","subscribers":{` +
	`"aaronorr":{"sid":"aaronorr","name":"Lori Rodriguez","email":"mistymoore@yahoo.com"}}}`

type exchange struct {
	method, target, reqBody string
	status                  int
	header                  map[string]string // response headers; "" deletes a default one
	body                    string
}

// defaults are the headers every response of the service carries.
var defaults = map[string]string{"X-Request-ID": "req-1", "Content-Type": "application/json"}

func (e exchange) build(t *testing.T) (*http.Request, *http.Response, []byte) {
	t.Helper()
	var body io.Reader = http.NoBody
	if e.reqBody != "" {
		body = strings.NewReader(e.reqBody)
	}
	req, err := http.NewRequest(e.method, "http://127.0.0.1:8080"+e.target, body) // sets GetBody
	require.NoError(t, err)
	if e.reqBody != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	res := &http.Response{StatusCode: e.status, Header: http.Header{}, Request: req}
	for k, v := range defaults {
		res.Header.Set(k, v)
	}
	for k, v := range e.header {
		if v == "" {
			res.Header.Del(k)
		} else {
			res.Header.Set(k, v)
		}
	}
	res.Body = io.NopCloser(strings.NewReader(e.body))
	return req, res, []byte(e.body)
}

func TestValidator_Check(t *testing.T) {
	v := openapicheck.New(t)
	etag := map[string]string{"ETag": `"1"`}
	tests := []struct {
		name     string
		exchange exchange
		fail     string // "" when the exchange matches the document, else a part of the report
	}{
		// Documented exchanges pass.
		{"get-200", exchange{method: "GET", target: "/bonds/FOO", status: 200, header: etag, body: fooJSON}, ""},
		{"get-304", exchange{method: "GET", target: "/bonds/FOO", status: 304, header: map[string]string{"ETag": `"1"`, "Content-Type": ""}}, ""},
		{"get-404", exchange{method: "GET", target: "/bonds/NOPE", status: 404, body: `{"detail":"Bond NOPE not found."}`}, ""},
		{"get-422-escaped-slash", exchange{method: "GET", target: "/bonds/B1%2Fx", status: 422,
			body: `{"detail":[{"loc":["path","bond_id"],"msg":"must not contain '/'","type":"value_error.str.slash"}]}`}, ""},
		{"list-200-trailing-slash", exchange{method: "GET", target: "/bonds/?by_host=0&limit=1", status: 200,
			header: map[string]string{"Link": `</bonds?by_host=0&limit=1&next_token=x>; rel="next"`}, body: "[" + fooJSON + "]"}, ""},
		{"create-201", exchange{method: "POST", target: "/bonds", reqBody: fooJSON, status: 201,
			header: map[string]string{"ETag": `"1"`, "Location": "/bonds/FOO"}, body: fooJSON}, ""},
		{"create-422-invalid-request-refused", exchange{method: "POST", target: "/bonds", reqBody: `{"bond_id":7}`, status: 422,
			body: `{"detail":[{"loc":["body","bond_id"],"msg":"str type expected","type":"type_error.str"}]}`}, ""},
		{"delete-204", exchange{method: "DELETE", target: "/bonds/FOO", status: 204, header: map[string]string{"Content-Type": ""}}, ""},
		{"subscribers-200-trailing-slash", exchange{method: "GET", target: "/bonds/FOO/subscribers/", status: 200, header: etag, body: `{}`}, ""},
		{"list-503", exchange{method: "GET", target: "/bonds", status: 503, header: map[string]string{"Retry-After": "1"},
			body: `{"detail":"The bond store is unavailable. Retry later."}`}, ""},
		{"metrics-200", exchange{method: "GET", target: "/metrics", status: 200,
			header: map[string]string{"Content-Type": "text/plain; version=0.0.4; charset=utf-8"}, body: "up 1\n"}, ""},
		{"unknown-path-404", exchange{method: "GET", target: "/nope", status: 404, body: `{"detail":"Not Found"}`}, ""},
		{"method-405", exchange{method: "PATCH", target: "/bonds/FOO", status: 405,
			header: map[string]string{"Allow": "GET, HEAD, PUT, DELETE"}, body: `{"detail":"Method Not Allowed"}`}, ""},
		{"idn-email-in-bond", exchange{method: "GET", target: "/bonds/FOO", status: 200, header: etag,
			body: strings.Replace(fooJSON, "mistymoore@yahoo.com", "ü@exämple.com", 1)}, ""},
		{"list-by-host-any-case", exchange{method: "GET", target: "/bonds?by_host=FaLsE", status: 200, body: "[]"}, ""},
		{"get-431", exchange{method: "GET", target: "/bonds/FOO", status: 431, header: map[string]string{"Connection": "close"},
			body: `{"detail":"Request header fields too large (limit 32768 bytes)."}`}, ""},
		{"create-500", exchange{method: "POST", target: "/bonds", reqBody: fooJSON, status: 500, body: `{"detail":"Internal server error."}`}, ""},
		{"docs-skipped", exchange{method: "GET", target: "/docs/index.html", status: 200,
			header: map[string]string{"Content-Type": "text/html"}, body: "<html></html>"}, ""},

		// Mismatches fail.
		{"undocumented-status", exchange{method: "GET", target: "/bonds/FOO", status: 418, body: `{"detail":"teapot"}`}, "status 418 is not documented"},
		{"undocumented-500", exchange{method: "GET", target: "/healthz", status: 500, body: `{"detail":"Internal server error."}`}, "status 500 is not documented"},
		{"extra-field-in-bond", exchange{method: "GET", target: "/bonds/FOO", status: 200, header: etag,
			body: strings.Replace(fooJSON, `{"bond_id"`, `{"version":3,"bond_id"`, 1)}, `"version"`},
		{"missing-field-in-bond", exchange{method: "GET", target: "/bonds/FOO", status: 200, header: etag,
			body: strings.Replace(fooJSON, `"host_cost_center":"olive",`, "", 1)}, "host_cost_center"},
		{"bad-email-in-bond", exchange{method: "GET", target: "/bonds/FOO", status: 200, header: etag,
			body: strings.Replace(fooJSON, "mistymoore@yahoo.com", "Misty <mistymoore@yahoo.com>", 1)}, "email"},
		{"missing-etag", exchange{method: "GET", target: "/bonds/FOO", status: 200, body: fooJSON}, `"ETag" missing`},
		{"weak-etag", exchange{method: "GET", target: "/bonds/FOO", status: 200, header: map[string]string{"ETag": `W/"1"`}, body: fooJSON}, `ETag`},
		{"304-missing-etag", exchange{method: "GET", target: "/bonds/FOO", status: 304, header: map[string]string{"Content-Type": ""}}, `"ETag" missing`},
		{"missing-location", exchange{method: "POST", target: "/bonds", reqBody: fooJSON, status: 201, header: etag, body: fooJSON}, `"Location" missing`},
		{"missing-request-id", exchange{method: "GET", target: "/bonds/FOO", status: 200,
			header: map[string]string{"ETag": `"1"`, "X-Request-ID": ""}, body: fooJSON}, `"X-Request-ID" missing`},
		{"undocumented-header", exchange{method: "GET", target: "/bonds/FOO", status: 200,
			header: map[string]string{"ETag": `"1"`, "X-Debug": "yes"}, body: fooJSON}, `"X-Debug" is not documented`},
		{"etag-on-delete", exchange{method: "DELETE", target: "/bonds/FOO", status: 204, header: map[string]string{"ETag": `"2"`, "Content-Type": ""}}, `"Etag" is not documented`},
		{"body-on-204", exchange{method: "DELETE", target: "/bonds/FOO", status: 204, body: "null"}, "no documented body"},
		{"503-missing-retry-after", exchange{method: "GET", target: "/readyz", status: 503, body: `{"detail":"down"}`}, `"Retry-After" missing`},
		{"422-with-string-detail", exchange{method: "GET", target: "/bonds?limit=0", status: 422, body: `{"detail":"bad limit"}`}, "ValidationError"},
		{"error-as-text", exchange{method: "GET", target: "/bonds/NOPE", status: 404,
			header: map[string]string{"Content-Type": "text/plain; charset=utf-8"}, body: "404 page not found\n"}, "text/plain"},
		{"invalid-request-accepted", exchange{method: "POST", target: "/bonds", reqBody: `{"bond_id":"FOO"}`, status: 201,
			header: map[string]string{"ETag": `"1"`, "Location": "/bonds/FOO"}, body: fooJSON}, "accepted a request the document forbids"},
		{"invalid-query-accepted", exchange{method: "GET", target: "/bonds?limit=5000", status: 200, body: "[]"}, "accepted a request the document forbids"},
		{"unknown-path-200", exchange{method: "GET", target: "/nope", status: 200, body: `{}`}, "want status 404, got 200"},
		{"unknown-path-text-404", exchange{method: "GET", target: "/nope", status: 404,
			header: map[string]string{"Content-Type": "text/plain"}, body: "404 page not found"}, "not JSON"},
		{"405-wrong-allow", exchange{method: "PATCH", target: "/bonds/FOO", status: 405,
			header: map[string]string{"Allow": "GET"}, body: `{"detail":"Method Not Allowed"}`}, "Allow"},
		{"405-missing-allow", exchange{method: "PATCH", target: "/bonds/FOO", status: 405,
			header: map[string]string{"Allow": ""}, body: `{"detail":"Method Not Allowed"}`}, `"Allow" missing`},
		{"405-undocumented-header", exchange{method: "PATCH", target: "/bonds/FOO", status: 405,
			header: map[string]string{"Allow": "GET, HEAD, PUT, DELETE", "X-Debug": "1"}, body: `{"detail":"Method Not Allowed"}`}, `"X-Debug" is not documented`},
		{"invalid-by-host-accepted", exchange{method: "GET", target: "/bonds?by_host=yes", status: 200, body: "[]"}, "accepted a request the document forbids"},
		{"405-collection", exchange{method: "DELETE", target: "/bonds", status: 405,
			header: map[string]string{"Allow": "GET, HEAD, POST"}, body: `{"detail":"Method Not Allowed"}`}, ""},
		{"405-nested", exchange{method: "PUT", target: "/bonds/FOO/subscribers", status: 405,
			header: map[string]string{"Allow": "GET, HEAD, POST"}, body: `{"detail":"Method Not Allowed"}`}, ""},
		{"known-path-404-for-wrong-method", exchange{method: "PATCH", target: "/bonds", status: 404, body: `{"detail":"Not Found"}`}, "want status 405"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, res, body := tt.exchange.build(t)
			rec := &recorder{TB: t}
			v.Check(rec, req, res, body)
			got := rec.messages()
			if tt.fail == "" {
				assert.Empty(t, got)
			} else {
				t.Log(got)
				assert.Contains(t, got, tt.fail)
				assert.Contains(t, got, tt.exchange.method+" "+tt.exchange.target, "the report names the request")
			}
		})
	}
}

// TestValidator_RealServer runs exchanges through a real server and client,
// as the HTTP suite does, from several goroutines at once (run with -race).
func TestValidator_RealServer(t *testing.T) {
	v := openapicheck.New(t)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Request-ID", "req-1")
		w.Header().Set("Content-Type", "application/json")
		if r.URL.Path == "/bonds/FOO" {
			w.Header().Set("ETag", `"1"`)
			_, _ = io.WriteString(w, fooJSON)
			return
		}
		w.WriteHeader(http.StatusNotFound)
		_, _ = io.WriteString(w, `{"detail":"Not Found","extra":1}`)
	}))
	t.Cleanup(srv.Close)

	check := func(t testing.TB, path string) {
		req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, srv.URL+path, nil)
		require.NoError(t, err)
		res, err := srv.Client().Do(req)
		require.NoError(t, err)
		defer res.Body.Close()
		body, err := io.ReadAll(res.Body)
		require.NoError(t, err)
		v.Check(t, req, res, body)
	}

	t.Run("documented", func(t *testing.T) {
		var wg sync.WaitGroup
		for range 8 {
			wg.Go(func() { check(t, "/bonds/FOO") })
		}
		wg.Wait()
	})
	t.Run("extra field in an error", func(t *testing.T) {
		rec := &recorder{TB: t}
		check(rec, "/elsewhere")
		assert.Contains(t, rec.messages(), "extra")
	})
}
