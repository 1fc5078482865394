package apitest

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/bondregistry/bond-registry/internal/bond"
)

// gone checks a 204 with no body and that the bond at path is gone.
func gone(path string) func(t *testing.T, c *Client, res Response) {
	return func(t *testing.T, c *Client, res Response) {
		t.Helper()
		assert.Empty(t, res.Body, "204 has no body")
		assert.Equal(t, http.StatusNotFound, c.Do(t, http.MethodGet, path, "", nil).Status, "GET %s after DELETE", path)
	}
}

func deleteCases() []testCase {
	del := func(tc testCase) testCase {
		tc.method = http.MethodDelete
		if tc.path == "" {
			tc.path = "/bonds/B1"
		}
		return tc
	}
	seed := []bond.Bond{b1(), b2()}
	odd := withID(b1(), oddID)
	cases := []testCase{
		{name: "delete-204", seed: seed, status: http.StatusNoContent,
			check: func(t *testing.T, c *Client, res Response) {
				gone("/bonds/B1")(t, c, res)
				getBond(t, c, "/bonds/B2") // the other bond stays
			}},
		{name: "delete-204-missing", path: "/bonds/NOPE", status: http.StatusNoContent, check: gone("/bonds/NOPE")},
		{name: "delete-204-frees-pair", seed: seed, status: http.StatusNoContent,
			check: func(t *testing.T, c *Client, _ Response) {
				res := c.Do(t, http.MethodPost, "/bonds", `{"bond_id": "B9", "host_account_id": "HOST1", "sub_account_id": "SUB1", "host_cost_center": "a", "sub_cost_center": "b"}`, nil)
				assert.Equal(t, http.StatusCreated, res.Status, "the pair is free again: %s", res.Body)
			}},
		{name: "delete-204-escaped-id", seed: []bond.Bond{odd}, path: "/bonds/my%20bond%20%C3%BC%2050%25",
			status: http.StatusNoContent, check: gone("/bonds/my%20bond%20%C3%BC%2050%25")},
		{name: "delete-204-if-match", seed: seed, header: Header{"If-Match": `"1"`}, status: http.StatusNoContent, check: gone("/bonds/B1")},
		{name: "delete-204-if-match-star", seed: seed, header: Header{"If-Match": `*`}, status: http.StatusNoContent, check: gone("/bonds/B1")},
		{name: "delete-412-stale", seed: seed, header: Header{"If-Match": `"2"`}, status: http.StatusPreconditionFailed, check: stillB1},
		{name: "delete-412-malformed-if-match", seed: seed, header: Header{"If-Match": `1`}, status: http.StatusPreconditionFailed, check: stillB1},
		{name: "delete-412-missing-with-if-match", path: "/bonds/NOPE", header: Header{"If-Match": `"1"`}, status: http.StatusPreconditionFailed},
		{name: "delete-412-missing-with-if-match-star", path: "/bonds/NOPE", header: Header{"If-Match": `*`}, status: http.StatusPreconditionFailed},
		{name: "delete-422-path-slash", path: "/bonds/B1%2F..", status: http.StatusUnprocessableEntity,
			problems: []Problem{p("value_error.str.slash", "path", "bond_id")}},
	}
	for i := range cases {
		cases[i] = del(cases[i])
	}
	return cases
}
