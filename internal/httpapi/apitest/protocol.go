package apitest

import (
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/bondregistry/bond-registry/internal/bond"
)

// protocolCases are the cases of no one resource: unknown routes, wrong
// methods, request ids.
func protocolCases() []testCase {
	allow := func(want string) func(t *testing.T, c *Client, res Response) {
		return func(t *testing.T, _ *Client, res Response) {
			assert.Equal(t, want, res.Header.Get("Allow"))
		}
	}
	requestID := func(want string) func(t *testing.T, c *Client, res Response) {
		return func(t *testing.T, _ *Client, res Response) {
			got := res.Header.Get("X-Request-ID")
			if want != "" {
				assert.Equal(t, want, got, "X-Request-ID echoed")
				return
			}
			assert.NotEmpty(t, got, "X-Request-ID generated")
			assert.LessOrEqual(t, len(got), 128)
			assert.NotContains(t, got, " ")
		}
	}
	seed := []bond.Bond{b1()}
	return []testCase{
		{name: "route-404", path: "/nope", status: http.StatusNotFound, detail: "Not Found"},
		{name: "route-404-deeper", path: "/bonds/B1/subscribers/rharper/more", status: http.StatusNotFound, detail: "Not Found"},
		{name: "route-404-bond-trailing-slash", seed: seed, path: "/bonds/B1/", status: http.StatusNotFound},
		{name: "method-405-bonds", method: http.MethodDelete, path: "/bonds", status: http.StatusMethodNotAllowed,
			detail: "Method Not Allowed", check: allow("GET, HEAD, POST")},
		{name: "method-405-bond", method: http.MethodPatch, path: "/bonds/B1", body: `{}`, seed: seed,
			status: http.StatusMethodNotAllowed, check: allow("GET, HEAD, PUT, DELETE")},
		{name: "method-405-subscribers", method: http.MethodPut, path: "/bonds/B1/subscribers", body: `{}`,
			status: http.StatusMethodNotAllowed, check: allow("GET, HEAD, POST")},
		{name: "method-405-subscriber", method: http.MethodPost, path: "/bonds/B1/subscribers/x", body: `{}`,
			status: http.StatusMethodNotAllowed, check: allow("GET, HEAD, DELETE")},
		{name: "method-405-health", method: http.MethodPost, path: "/healthz", status: http.StatusMethodNotAllowed, check: allow("GET, HEAD")},
		{name: "request-id-echo", path: "/healthz", header: Header{"X-Request-ID": "abc-123_XYZ"},
			status: http.StatusOK, check: requestID("abc-123_XYZ")},
		{name: "request-id-generated", path: "/healthz", status: http.StatusOK, check: requestID("")},
		{name: "request-id-on-errors", path: "/bonds/NOPE", header: Header{"X-Request-ID": "err-1"},
			status: http.StatusNotFound, check: requestID("err-1")},
		{name: "request-id-too-long-replaced", path: "/healthz", header: Header{"X-Request-ID": strings.Repeat("r", 129)},
			status: http.StatusOK, check: func(t *testing.T, c *Client, res Response) {
				requestID("")(t, c, res)
				assert.NotEqual(t, strings.Repeat("r", 129), res.Header.Get("X-Request-ID"))
			}},
		{name: "request-id-with-space-replaced", path: "/healthz", header: Header{"X-Request-ID": "a b"},
			status: http.StatusOK, check: requestID("")},
	}
}
