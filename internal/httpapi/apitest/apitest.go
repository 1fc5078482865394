// Package apitest is the HTTP test suite of the Bond Registry: one table of
// requests per verb, covering every route of the API contract and every error
// case, run against a real HTTP server on 127.0.0.1 in front of whatever
// store newRepo makes. The bolt store runs it in internal/httpapi; the
// DynamoDB store runs it unchanged.
//
// Every request of the suite goes through one Client, and every
// request/response pair is validated against api/openapi.yaml
// (internal/openapicheck). A test can add its own checks with WithCheck:
//
//	apitest.RunAPITests(t, newRepo, apitest.WithCheck(
//		func(t *testing.T, req *http.Request, res *http.Response, body []byte) {
//			// req.Body and res.Body can be read (again); body is res's body.
//			// validate with kin-openapi's openapi3filter here
//		}))
package apitest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bondregistry/bond-registry/internal/bond"
	"github.com/bondregistry/bond-registry/internal/httpapi"
	"github.com/bondregistry/bond-registry/internal/idempotency"
	"github.com/bondregistry/bond-registry/internal/openapicheck"
)

// CheckFunc sees every request the suite sends and the response it got. req
// is the request as sent, with a Body that can be read again (and GetBody
// set); res.Body holds the same bytes as body. It runs on the subtest's t,
// possibly from several goroutines at once (the concurrency test).
type CheckFunc func(t *testing.T, req *http.Request, res *http.Response, body []byte)

// Option configures RunAPITests and NewClient.
type Option func(*options)

type options struct {
	checks []CheckFunc
	prism  *Prism
}

// WithCheck adds a check run on every request/response pair of the suite,
// such as an OpenAPI contract validation.
func WithCheck(f CheckFunc) Option {
	return func(o *options) { o.checks = append(o.checks, f) }
}

// WithPrism sends every request (HEAD aside) through p, which proxies it to
// the subtest's server, and fails the test on every response violation p
// reports, before the other checks see the response.
func WithPrism(p *Prism) Option {
	return func(o *options) { o.prism = p }
}

// RunAPITests runs the HTTP suite. Each subtest calls newRepo once and
// expects an empty repository; newRepo cleans it up (t.Cleanup) and must be
// safe to call from parallel subtests.
func RunAPITests(t *testing.T, newRepo func(t *testing.T) bond.Repository, opts ...Option) {
	t.Helper()
	// Every exchange of the suite, on every store, is checked against
	// api/openapi.yaml: an undocumented status, header or field fails.
	v := openapicheck.New(t)
	opts = append([]Option{WithCheck(func(t *testing.T, req *http.Request, res *http.Response, body []byte) {
		v.Check(t, req, res, body)
	})}, opts...)
	s := suite{newRepo: newRepo, opts: opts}
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	t.Run("Health", func(t *testing.T) { s.run(t, healthCases()) })
	t.Run("Get", func(t *testing.T) { s.run(t, getCases()) })
	t.Run("List", func(t *testing.T) { s.run(t, listCases()) })
	t.Run("Paginate", s.testPaginate)
	t.Run("Create", func(t *testing.T) { s.run(t, createCases()) })
	t.Run("Update", func(t *testing.T) { s.run(t, updateCases()) })
	t.Run("Delete", func(t *testing.T) { s.run(t, deleteCases()) })
	t.Run("SubscriberGet", func(t *testing.T) { s.run(t, subscriberGetCases()) })
	t.Run("SubscriberAdd", func(t *testing.T) { s.run(t, subscriberAddCases()) })
	t.Run("SubscriberRemove", func(t *testing.T) { s.run(t, subscriberRemoveCases()) })
	t.Run("Protocol", func(t *testing.T) { s.run(t, protocolCases()) })
	t.Run("Conditional", func(t *testing.T) { s.run(t, conditionalCases()) })
	t.Run("Attack", func(t *testing.T) { s.run(t, attackCases()) })
	t.Run("ConcurrentSubscriberAdds", s.testConcurrentAdds)
	t.Run("Idempotency", func(t *testing.T) { s.run(t, idempotencyCases()) })
	t.Run("Revisions", func(t *testing.T) { s.run(t, revisionCases()) })
	t.Run("RevisionPaginate", s.testRevisionPaginate)
}

// NewClient serves h on 127.0.0.1 for the length of the test and returns a
// client of it. Tests outside this package use it for their own requests, so
// that the checks of opts see them too.
func NewClient(t *testing.T, h http.Handler, opts ...Option) *Client {
	t.Helper()
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return &Client{BaseURL: srv.URL, HTTP: srv.Client(), checks: o.checks, prism: o.prism}
}

// Client sends the suite's requests. It is safe for concurrent use.
type Client struct {
	BaseURL string
	HTTP    *http.Client
	checks  []CheckFunc
	prism   *Prism
}

// Response is a response with its body read.
type Response struct {
	Status int
	Header http.Header
	Body   []byte
}

// Header is a request's headers in a test table. The value "" removes a
// header the client would set (Content-Type: application/json with a body).
type Header map[string]string

// Do sends method path (path is escaped, with its query) with body, and
// fails the test if no response comes back. A non-empty body is sent as
// application/json unless h says otherwise.
func (c *Client) Do(t *testing.T, method, path, body string, h Header) Response {
	t.Helper()
	res, err := c.Send(t, method, path, body, h)
	require.NoError(t, err, "%s %s", method, path)
	return res
}

// Send is Do that returns transport errors instead of failing the test, for
// use from goroutines.
func (c *Client) Send(t *testing.T, method, path, body string, h Header) (Response, error) {
	req, err := http.NewRequestWithContext(t.Context(), method, c.BaseURL+path, strings.NewReader(body))
	if err != nil {
		return Response{}, fmt.Errorf("new request: %w", err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for k, v := range h {
		if v == "" {
			req.Header.Del(k)
		} else {
			req.Header.Set(k, v)
		}
	}
	sent, x := req, (*exchange)(nil)
	if c.prism != nil {
		sent = req.Clone(req.Context())
		if x = c.prism.route(sent, c.BaseURL, body); x != nil {
			// A request Prism does not answer fails the test, not the run.
			ctx, cancel := context.WithTimeout(req.Context(), prismRequestTimeout)
			defer cancel()
			sent = sent.WithContext(ctx)
		}
	}
	res, err := c.HTTP.Do(sent)
	if err != nil {
		return Response{}, fmt.Errorf("%s %s: %w", method, path, err)
	}
	defer res.Body.Close()
	data, err := io.ReadAll(res.Body)
	if err != nil {
		return Response{}, fmt.Errorf("%s %s: read body: %w", method, path, err)
	}
	if x != nil {
		c.prism.check(t, req, res)
		original, ok := c.prism.original(x)
		if !ok {
			return Response{}, fmt.Errorf("%s %s: prism answered %d itself: %.300s", method, path, res.StatusCode, data)
		}
		// What the service sent, for the checks and the assertions.
		res.StatusCode, res.Header, data = original.Status, original.Header, original.Body
	}
	for _, check := range c.checks {
		req.Body = io.NopCloser(strings.NewReader(body))
		req.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(strings.NewReader(body)), nil }
		res.Body = io.NopCloser(bytes.NewReader(data))
		check(t, req, res, data)
	}
	return Response{Status: res.StatusCode, Header: res.Header, Body: data}, nil
}

// suite holds what every subtest needs to build its server.
type suite struct {
	newRepo func(t *testing.T) bond.Repository
	opts    []Option
}

// env returns a fresh repository and a client of a server in front of it.
func (s suite) env(t *testing.T) (bond.Repository, *Client) {
	t.Helper()
	repo := s.newRepo(t)
	cfg := httpapi.Config{RequestTimeout: 10 * time.Second}
	if p, ok := repo.(idempotency.Provider); ok {
		cfg.Idempotency = p.Idempotency()
	}
	h := httpapi.NewServer(zerolog.Nop(), repo, cfg)
	return repo, NewClient(t, h, s.opts...)
}

// testCase is one request of a table and what must come back.
type testCase struct {
	name     string
	seed     []bond.Bond                                 // created before the request
	before   func(t *testing.T, c *Client)               // more setup, through HTTP
	method   string                                      // GET when empty
	path     string                                      // escaped, with query
	header   Header                                      // request headers
	body     string                                      // request body
	status   int                                         // wanted status
	detail   string                                      // wanted "detail" string, when set
	problems []Problem                                   // 422: each must be in "detail" (loc and type)
	check    func(t *testing.T, c *Client, res Response) // more assertions
}

// Problem is the part of a 422 problem a test compares: where and what.
// Every problem of the answer must be listed, with its exact loc: the rules
// and their locs come from one place, so both stores report the same.
type Problem struct {
	Loc  []string
	Type string
}

// run runs a table, each case in a parallel subtest with its own store.
func (s suite) run(t *testing.T, cases []testCase) {
	t.Helper()
	names := map[string]bool{}
	for _, tc := range cases {
		require.False(t, names[tc.name], "duplicate case name %q", tc.name)
		names[tc.name] = true
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			repo, c := s.env(t)
			for _, b := range tc.seed {
				_, err := bond.Create(t.Context(), repo, b)
				require.NoError(t, err, "seed %s", b.BondID)
			}
			if tc.before != nil {
				tc.before(t, c)
			}
			method := tc.method
			if method == "" {
				method = http.MethodGet
			}
			res := c.Do(t, method, tc.path, tc.body, tc.header)
			require.Equal(t, tc.status, res.Status, "status of %s %s; body: %.500s", method, tc.path, res.Body)
			if res.Status >= 400 {
				checkErrorBody(t, res, tc.detail, tc.problems)
			} else {
				require.Empty(t, tc.detail, "test case: detail set on a success")
				require.Empty(t, tc.problems, "test case: problems set on a success")
			}
			if tc.check != nil {
				tc.check(t, c, res)
			}
		})
	}
}

// checkErrorBody asserts the error body is JSON {"detail": ...}, with the
// given detail string or problems when set.
func checkErrorBody(t *testing.T, res Response, detail string, problems []Problem) {
	t.Helper()
	assert.Equal(t, "application/json", res.Header.Get("Content-Type"), "error Content-Type")
	var body struct {
		Detail json.RawMessage `json:"detail"`
	}
	require.NoError(t, json.Unmarshal(res.Body, &body), "error body is JSON: %s", res.Body)
	require.NotEmpty(t, body.Detail, "error body has detail: %s", res.Body)
	require.NotEqual(t, "null", string(body.Detail), "error detail is not null")
	if detail != "" {
		var got string
		require.NoError(t, json.Unmarshal(body.Detail, &got), "detail is a string: %s", body.Detail)
		assert.Equal(t, detail, got, "detail")
	}
	if res.Status == http.StatusUnprocessableEntity {
		var got []bond.Problem
		require.NoError(t, json.Unmarshal(body.Detail, &got), "422 detail is a list of problems: %s", body.Detail)
		require.NotEmpty(t, got, "422 lists its problems")
		for _, p := range got {
			assert.NotEmpty(t, p.Msg, "problem %v has a msg", p)
			assert.NotEmpty(t, p.Type, "problem %v has a type", p)
		}
		if problems != nil {
			var gotKeys, wantKeys []string
			for _, p := range got {
				gotKeys = append(gotKeys, strings.Join(p.Loc, ".")+" "+p.Type)
			}
			for _, p := range problems {
				wantKeys = append(wantKeys, strings.Join(p.Loc, ".")+" "+p.Type)
			}
			assert.ElementsMatch(t, wantKeys, gotKeys, "the problems, exactly: %s", body.Detail)
		}
	} else {
		require.Empty(t, problems, "test case: problems set on a status other than 422")
	}
}
