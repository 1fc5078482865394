package apitest

import (
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bondregistry/bond-registry/internal/bond"
)

// conditionalCases are the conditional requests of RFC 9110 §13 on every
// route that sends an ETag, HEAD on every GET route (§9.3.2), and the inputs
// of issue "One rule set, two storage engines" as they reach the API.
func conditionalCases() []testCase {
	v1 := with(b1(), func(b *bond.Bond) { b.Version = 1 })
	notModified := func(t *testing.T, _ *Client, res Response) {
		assert.Empty(t, res.Body, "304 has no body")
		assert.Equal(t, `"1"`, res.Header.Get("ETag"), "304 carries the ETag")
	}
	const (
		stale   = "Bond B1 is not at the version the request requires: it was changed or deleted. Fetch it again."
		exclude = "Bond B1 is at a version the request excludes."
	)
	seed := []bond.Bond{b1()}
	var cases []testCase
	for _, path := range []string{"/bonds/B1", "/bonds/B1/subscribers", "/bonds/B1/subscribers/rharper"} {
		name := strings.ReplaceAll(strings.TrimPrefix(path, "/bonds/"), "/", "-")
		cases = append(cases,
			testCase{name: name + "-412-if-match-stale", seed: seed, path: path, header: Header{"If-Match": `"2"`},
				status: http.StatusPreconditionFailed, detail: stale},
			testCase{name: name + "-412-if-match-weak", seed: seed, path: path, header: Header{"If-Match": `W/"1"`},
				status: http.StatusPreconditionFailed, detail: stale},
			testCase{name: name + "-412-if-match-opaque", seed: seed, path: path, header: Header{"If-Match": `"01"`},
				status: http.StatusPreconditionFailed, detail: stale},
			testCase{name: name + "-200-if-match-list", seed: seed, path: path, header: Header{"If-Match": `"0", "1"`},
				status: http.StatusOK},
			testCase{name: name + "-200-if-match-star", seed: seed, path: path, header: Header{"If-Match": `*`},
				status: http.StatusOK},
			testCase{name: name + "-304-if-none-match", seed: seed, path: path, header: Header{"If-None-Match": `"1"`},
				status: http.StatusNotModified, check: notModified},
			testCase{name: name + "-304-if-none-match-weak-list", seed: seed, path: path, header: Header{"If-None-Match": `"7",W/"1"`},
				status: http.StatusNotModified, check: notModified},
			testCase{name: name + "-200-if-none-match-opaque", seed: seed, path: path, header: Header{"If-None-Match": `"1 "`},
				status: http.StatusOK},
			testCase{name: name + "-412-if-match-before-if-none-match", seed: seed, path: path,
				header: Header{"If-Match": `"5"`, "If-None-Match": `"1"`}, status: http.StatusPreconditionFailed, detail: stale},
			testCase{name: name + "-head-200", seed: seed, method: http.MethodHead, path: path, status: http.StatusOK,
				check: func(t *testing.T, c *Client, res Response) {
					assert.Empty(t, res.Body, "HEAD has no body")
					get := c.Do(t, http.MethodGet, path, "", nil)
					assert.Equal(t, get.Header.Get("ETag"), res.Header.Get("ETag"))
					assert.Equal(t, get.Header.Get("Content-Length"), res.Header.Get("Content-Length"))
					assert.Equal(t, get.Header.Get("Content-Type"), res.Header.Get("Content-Type"))
				}},
			testCase{name: name + "-head-304", seed: seed, method: http.MethodHead, path: path,
				header: Header{"If-None-Match": `"1"`}, status: http.StatusNotModified, check: notModified},
		)
	}
	cases = append(cases,
		testCase{name: "get-404-if-match-missing", path: "/bonds/NOPE", header: Header{"If-Match": `*`},
			status: http.StatusNotFound, detail: "Bond NOPE not found."},
		testCase{name: "list-head-200", seed: seed, method: http.MethodHead, path: "/bonds", status: http.StatusOK,
			check: func(t *testing.T, _ *Client, res Response) { assert.Empty(t, res.Body) }},
		testCase{name: "healthz-head-200", method: http.MethodHead, path: "/healthz", status: http.StatusOK},

		testCase{name: "update-200-if-match-list", seed: seed, method: http.MethodPut, path: "/bonds/B1",
			header: Header{"If-Match": `"0", "1"`}, body: `{"host_cost_center": "red"}`, status: http.StatusOK,
			check: wantBond(with(b1(), func(b *bond.Bond) { b.HostCostCenter = "red"; b.Version = 2 }))},
		testCase{name: "update-412-if-match-weak", seed: seed, method: http.MethodPut, path: "/bonds/B1",
			header: Header{"If-Match": `W/"1"`}, body: `{"host_cost_center": "red"}`, status: http.StatusPreconditionFailed,
			detail: stale, check: storedAs("/bonds/B1", v1)},
		testCase{name: "update-412-if-none-match-star", seed: seed, method: http.MethodPut, path: "/bonds/B1",
			header: Header{"If-None-Match": `*`}, body: `{"host_cost_center": "red"}`, status: http.StatusPreconditionFailed,
			detail: exclude, check: storedAs("/bonds/B1", v1)},
		testCase{name: "update-412-if-none-match-current", seed: seed, method: http.MethodPut, path: "/bonds/B1",
			header: Header{"If-None-Match": `W/"1"`}, body: `{"host_cost_center": "red"}`, status: http.StatusPreconditionFailed,
			detail: exclude, check: storedAs("/bonds/B1", v1)},
		testCase{name: "update-404-if-none-match-star-missing", method: http.MethodPut, path: "/bonds/NOPE",
			header: Header{"If-None-Match": `*`}, body: `{"host_cost_center": "red"}`, status: http.StatusNotFound,
			detail: "Bond NOPE not found."},
		testCase{name: "delete-412-if-none-match-star", seed: seed, method: http.MethodDelete, path: "/bonds/B1",
			header: Header{"If-None-Match": `*`}, status: http.StatusPreconditionFailed, detail: exclude,
			check: storedAs("/bonds/B1", v1)},
		testCase{name: "delete-204-if-match-list", seed: seed, method: http.MethodDelete, path: "/bonds/B1",
			header: Header{"If-Match": `"3", "1"`}, status: http.StatusNoContent},
		testCase{name: "subscriber-add-412-if-none-match", seed: seed, method: http.MethodPost, path: "/bonds/B1/subscribers",
			header: Header{"If-None-Match": `"1"`}, body: bobJSON, status: http.StatusPreconditionFailed, detail: exclude,
			check: storedAs("/bonds/B1", v1)},

		// Sids that look like document paths, on every subscriber route.
		testCase{name: "subscriber-brackets-add-get-remove", seed: seed, method: http.MethodPost, path: "/bonds/B1/subscribers",
			body: `{"sid": "ops[eu]", "name": "Ops", "email": "ops@example.com"}`, status: http.StatusOK,
			check: func(t *testing.T, c *Client, res Response) {
				for _, sid := range []string{"team[1]", "a.b", "x[0].y"} {
					r := c.Do(t, http.MethodPost, "/bonds/B1/subscribers", `{"sid": "`+sid+`", "name": "N", "email": "n@example.com"}`, nil)
					require.Equal(t, http.StatusOK, r.Status, "add %q: %s", sid, r.Body)
				}
				got := c.Do(t, http.MethodGet, "/bonds/B1/subscribers/team%5B1%5D", "", nil)
				require.Equal(t, http.StatusOK, got.Status, "%s", got.Body)
				assert.Contains(t, string(got.Body), `"sid":"team[1]"`)
				del := c.Do(t, http.MethodDelete, "/bonds/B1/subscribers/team%5B1%5D", "", nil)
				require.Equal(t, http.StatusOK, del.Status, "%s", del.Body)
				b := getBond(t, c, "/bonds/B1")
				assert.NotContains(t, b.Subscribers, "team[1]", "removed, not a silent no-op")
				assert.Contains(t, b.Subscribers, "ops[eu]")
				assert.Contains(t, b.Subscribers, "x[0].y")
				assert.Equal(t, int64(6), b.Version, "created at 1, four adds and one remove")
			}},
		testCase{name: "create-201-long-multibyte-accounts", method: http.MethodPost, path: "/bonds",
			body: `{"bond_id": "LONG", "host_account_id": "` + strings.Repeat("é", bond.MaxIDLen) + `", "sub_account_id": "` +
				strings.Repeat("帳", bond.MaxIDLen) + `", "host_cost_center": "c", "sub_cost_center": "d"}`,
			status: http.StatusCreated},
		testCase{name: "create-422-dot-segment-id", method: http.MethodPost, path: "/bonds",
			body:   `{"bond_id": "..", "host_account_id": "H", "sub_account_id": "S", "host_cost_center": "c", "sub_cost_center": "d"}`,
			status: http.StatusUnprocessableEntity, problems: []Problem{p("value_error.str.dot_segment", "body", "bond_id")}},
		testCase{name: "list-200-exactly-limit-no-link", seed: listSeed(), path: "/bonds?limit=3", status: http.StatusOK,
			check: ids("B1", "B2", "B3")},
		testCase{name: "list-200-filter-exactly-limit-no-link", seed: listSeed(), path: "/bonds?cost_center_id=teal&limit=2",
			status: http.StatusOK, check: ids("B1", "B3")},
	)
	return cases
}

// storedAs returns a check that the bond at path is still want.
func storedAs(path string, want bond.Bond) func(t *testing.T, c *Client, res Response) {
	return func(t *testing.T, c *Client, _ Response) {
		t.Helper()
		assert.Equal(t, want, getBond(t, c, path), "stored")
	}
}

// attackCases are what an attacker found reading only the README (each a
// regression test on both stores): a long If-None-Match list must still
// stop a write, "*" mixed with tags is no list, and a path or query value
// that is not UTF-8 never reaches a bond.
func attackCases() []testCase {
	seed := []bond.Bond{b1(), withID(b2(), "\ufffd")}
	v1 := with(b1(), func(b *bond.Bond) { b.Version = 1 })
	tags := []string{`"1"`}
	for i := 100; i < 200; i++ {
		tags = append(tags, `"`+strconv.Itoa(i)+`"`)
	}
	long := strings.Join(tags, ", ")
	return []testCase{
		{name: "update-412-if-none-match-101-tags", seed: seed, method: http.MethodPut, path: "/bonds/B1",
			header: Header{"If-None-Match": long}, body: `{"host_cost_center": "zzz"}`, status: http.StatusPreconditionFailed,
			detail: "Bond B1 is at a version the request excludes.", check: storedAs("/bonds/B1", v1)},
		{name: "delete-412-if-none-match-101-tags", seed: seed, method: http.MethodDelete, path: "/bonds/B1",
			header: Header{"If-None-Match": long}, status: http.StatusPreconditionFailed, check: storedAs("/bonds/B1", v1)},
		{name: "get-304-if-none-match-101-tags", seed: seed, path: "/bonds/B1", header: Header{"If-None-Match": long},
			status: http.StatusNotModified},
		{name: "update-412-if-match-star-and-tag", seed: seed, method: http.MethodPut, path: "/bonds/B1",
			header: Header{"If-Match": `*, "99"`}, body: `{"host_cost_center": "zzz"}`, status: http.StatusPreconditionFailed,
			check: storedAs("/bonds/B1", v1)},
		{name: "get-422-path-not-utf8", seed: seed, path: "/bonds/%FF", status: http.StatusUnprocessableEntity,
			problems: []Problem{p("value_error.str.utf8", "path", "bond_id")}},
		{name: "delete-422-path-not-utf8", seed: seed, method: http.MethodDelete, path: "/bonds/%80",
			status: http.StatusUnprocessableEntity, problems: []Problem{p("value_error.str.utf8", "path", "bond_id")},
			check: func(t *testing.T, c *Client, _ Response) {
				assert.Equal(t, http.StatusOK, c.Do(t, http.MethodGet, "/bonds/%EF%BF%BD", "", nil).Status, "the U+FFFD bond is untouched")
			}},
		{name: "subscriber-remove-422-sid-not-utf8", seed: seed, method: http.MethodDelete, path: "/bonds/B1/subscribers/%C0%AF",
			status: http.StatusUnprocessableEntity, problems: []Problem{p("value_error.str.utf8", "path", "sid")}},
		{name: "list-422-query-not-utf8", seed: seed, path: "/bonds?account_id=%FF", status: http.StatusUnprocessableEntity,
			problems: []Problem{p("value_error.str.utf8", "query", "account_id")}},
	}
}
