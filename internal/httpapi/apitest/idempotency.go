package apitest

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bondregistry/bond-registry/internal/bond"
	"github.com/bondregistry/bond-registry/internal/httpapi"
)

// idempotencyCases are the retries of the POST routes with an
// Idempotency-Key (the suite's stores keep records: idempotency.Provider).
func idempotencyCases() []testCase {
	const key = `"8e03978e-40d5-43e8-bc93-6894a57f9324"`
	keyed := Header{httpapi.IdempotencyKeyHeader: key}
	bob := `{"sid": "bob", "name": "Bob Smith", "email": "bob@example.com"}`
	bobByOther := `{"sid": "bob", "name": "Robert Smith", "email": "robert@example.com"}`
	created := with(withID(b1(), "NEW"), func(b *bond.Bond) {
		b.HostAccountID, b.SubAccountID = "HNEW", "SNEW"
		b.Subscribers = map[string]bond.Subscriber{"bob": {SID: "bob", Name: "Bob Smith", Email: "bob@example.com"}}
		b.Version = 1
	})

	return []testCase{
		// The answer of a create was lost; the retry gets the 201, not 409.
		replayCase("idempotency-create-201-replayed", nil, http.MethodPost, "/bonds", newBondJSON, key, nil,
			func(t *testing.T, c *Client) {
				assert.Equal(t, created, getBond(t, c, "/bonds/NEW"), "one bond, as created")
				res := c.Do(t, http.MethodGet, "/bonds", "", nil) // a Scan on DynamoDB: records are left out
				require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
				var listed []bond.Bond
				require.NoError(t, json.Unmarshal(res.Body, &listed), "%s", res.Body)
				assert.Len(t, listed, 2, "B1 and NEW, and no record: %s", res.Body)
			}),
		// Whatever happened to the bond since, the retry gets the first
		// answer and writes nothing.
		replayCase("idempotency-create-201-replayed-after-update", nil, http.MethodPost, "/bonds", newBondJSON, key,
			func(t *testing.T, c *Client) {
				res := c.Do(t, http.MethodPut, "/bonds/NEW", `{"host_cost_center": "olive"}`, nil)
				require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
			},
			func(t *testing.T, c *Client) {
				want := with(created, func(b *bond.Bond) { b.HostCostCenter = "olive"; b.Version = 2 })
				assert.Equal(t, want, getBond(t, c, "/bonds/NEW"), "the update is kept")
			}),
		// A retried subscriber add after another client changed that
		// subscriber answers the first response and leaves the other
		// client's change in place.
		replayCase("idempotency-subscriber-add-200-replayed-after-other-change", nil, http.MethodPost, "/bonds/B1/subscribers", bob, key,
			func(t *testing.T, c *Client) {
				res := c.Do(t, http.MethodPost, "/bonds/B1/subscribers", bobByOther, nil)
				require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
			},
			func(t *testing.T, c *Client) {
				got := getBond(t, c, "/bonds/B1")
				assert.Equal(t, "Robert Smith", got.Subscribers["bob"].Name, "the other client's change is kept")
				assert.Equal(t, int64(3), got.Version, "the retry wrote nothing")
			}),
		// A restore answered once: its retry after a later update gets the
		// first answer and restores nothing again.
		replayCase("idempotency-restore-200-replayed-after-update", updateB1, http.MethodPost, "/bonds/B1/revisions/1/restore", "", key,
			updateB1,
			func(t *testing.T, c *Client) {
				got := getBond(t, c, "/bonds/B1")
				assert.Equal(t, "olive", got.HostCostCenter, "the later update is kept")
				assert.Equal(t, int64(4), got.Version, "create, update, restore, update: the retry wrote nothing")
				assert.Len(t, revisions(t, c, "B1"), 4, "one revision per write, none for the retry")
			}),
		{name: "idempotency-restore-422-other-revision", seed: []bond.Bond{b1()}, method: http.MethodPost, path: "/bonds/B1/revisions/2/restore", header: keyed,
			before: func(t *testing.T, c *Client) {
				updateB1(t, c)
				res := c.Do(t, http.MethodPost, "/bonds/B1/revisions/1/restore", "", keyed)
				require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
			},
			status:   http.StatusUnprocessableEntity,
			problems: []Problem{p("value_error.idempotency_key_reused", "header", httpapi.IdempotencyKeyHeader)},
			check: func(t *testing.T, c *Client, _ Response) {
				assert.Len(t, revisions(t, c, "B1"), 3, "not restored")
			}},
		{name: "idempotency-restore-400-not-a-string", seed: []bond.Bond{b1()}, method: http.MethodPost, path: "/bonds/B1/revisions/1/restore",
			before: updateB1, header: Header{httpapi.IdempotencyKeyHeader: `"abc`}, status: http.StatusBadRequest,
			check: func(t *testing.T, c *Client, _ Response) {
				assert.Len(t, revisions(t, c, "B1"), 2, "not restored")
			}},
		// A quoted key and the same key as a token are one key.
		{name: "idempotency-token-form-is-the-same-key", seed: []bond.Bond{b1()}, method: http.MethodPost, path: "/bonds/B1/subscribers",
			before: func(t *testing.T, c *Client) {
				res := c.Do(t, http.MethodPost, "/bonds/B1/subscribers", bob, keyed)
				require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
			},
			header: Header{httpapi.IdempotencyKeyHeader: strings.Trim(key, `"`)}, body: bob, status: http.StatusOK,
			check: func(t *testing.T, _ *Client, res Response) {
				assert.Equal(t, "true", res.Header.Get(httpapi.ReplayedHeader))
			}},
		{name: "idempotency-422-other-body", method: http.MethodPost, path: "/bonds", header: keyed,
			before: func(t *testing.T, c *Client) {
				res := c.Do(t, http.MethodPost, "/bonds", newBondJSON, keyed)
				require.Equal(t, http.StatusCreated, res.Status, "%s", res.Body)
			},
			body: createBody("OTHER", "{}"), status: http.StatusUnprocessableEntity,
			problems: []Problem{p("value_error.idempotency_key_reused", "header", httpapi.IdempotencyKeyHeader)},
			check: func(t *testing.T, c *Client, _ Response) {
				assert.Equal(t, http.StatusNotFound, c.Do(t, http.MethodGet, "/bonds/OTHER", "", nil).Status, "not created")
			}},
		{name: "idempotency-422-other-path", seed: []bond.Bond{b1(), b2()}, method: http.MethodPost, path: "/bonds/B2/subscribers", header: keyed,
			before: func(t *testing.T, c *Client) {
				res := c.Do(t, http.MethodPost, "/bonds/B1/subscribers", bob, keyed)
				require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
			},
			body: bob, status: http.StatusUnprocessableEntity,
			problems: []Problem{p("value_error.idempotency_key_reused", "header", httpapi.IdempotencyKeyHeader)}},
		// A 4xx is not kept: nothing was written, and the retry executes
		// again, against the state it meets.
		{name: "idempotency-404-not-kept", method: http.MethodPost, path: "/bonds/B1/subscribers", header: keyed,
			before: func(t *testing.T, c *Client) {
				res := c.Do(t, http.MethodPost, "/bonds/B1/subscribers", bob, keyed)
				require.Equal(t, http.StatusNotFound, res.Status, "%s", res.Body)
				res = c.Do(t, http.MethodPost, "/bonds", createBody("B1", "{}"), nil)
				require.Equal(t, http.StatusCreated, res.Status, "%s", res.Body)
			},
			body: bob, status: http.StatusOK,
			check: func(t *testing.T, _ *Client, res Response) {
				assert.Empty(t, res.Header.Get(httpapi.ReplayedHeader), "executed, not replayed")
			}},
		{name: "idempotency-409-not-kept", seed: []bond.Bond{withID(b1(), "NEW")}, method: http.MethodPost, path: "/bonds", header: keyed,
			before: func(t *testing.T, c *Client) {
				res := c.Do(t, http.MethodPost, "/bonds", newBondJSON, keyed)
				require.Equal(t, http.StatusConflict, res.Status, "%s", res.Body)
				res = c.Do(t, http.MethodDelete, "/bonds/NEW", "", nil)
				require.Equal(t, http.StatusNoContent, res.Status, "%s", res.Body)
			},
			body: newBondJSON, status: http.StatusCreated,
			check: func(t *testing.T, _ *Client, res Response) {
				assert.Empty(t, res.Header.Get(httpapi.ReplayedHeader), "executed, not replayed")
			}},
		{name: "idempotency-422-not-kept", method: http.MethodPost, path: "/bonds", header: keyed,
			before: func(t *testing.T, c *Client) {
				res := c.Do(t, http.MethodPost, "/bonds", `{"bond_id": "NEW"}`, keyed)
				require.Equal(t, http.StatusUnprocessableEntity, res.Status, "%s", res.Body)
			},
			body: newBondJSON, status: http.StatusCreated, check: wantBond(created)},
		{name: "idempotency-400-empty-string", method: http.MethodPost, path: "/bonds", header: Header{httpapi.IdempotencyKeyHeader: `""`},
			body: newBondJSON, status: http.StatusBadRequest, check: notCreated},
		{name: "idempotency-400-too-long", method: http.MethodPost, path: "/bonds", header: Header{httpapi.IdempotencyKeyHeader: strings.Repeat("k", 256)},
			body: newBondJSON, status: http.StatusBadRequest, check: notCreated},
		{name: "idempotency-201-longest", method: http.MethodPost, path: "/bonds", header: Header{httpapi.IdempotencyKeyHeader: `"` + strings.Repeat("k", 255) + `"`},
			body: newBondJSON, status: http.StatusCreated},
		{name: "idempotency-400-not-a-string", method: http.MethodPost, path: "/bonds", header: Header{httpapi.IdempotencyKeyHeader: `"abc`},
			body: newBondJSON, status: http.StatusBadRequest, check: notCreated},
		{name: "idempotency-400-space-in-token", method: http.MethodPost, path: "/bonds", header: Header{httpapi.IdempotencyKeyHeader: `a b`},
			body: newBondJSON, status: http.StatusBadRequest, check: notCreated},
		{name: "idempotency-400-parameters", method: http.MethodPost, path: "/bonds", header: Header{httpapi.IdempotencyKeyHeader: `"abc";x=1`},
			body: newBondJSON, status: http.StatusBadRequest, check: notCreated},
	}
}

// updateB1 moves B1's host cost center to olive.
func updateB1(t *testing.T, c *Client) {
	t.Helper()
	res := c.Do(t, http.MethodPut, "/bonds/B1", `{"host_cost_center": "olive"}`, nil)
	require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
}

// revisions returns the first page of bond id's revisions.
func revisions(t *testing.T, c *Client, id string) []bond.Revision {
	t.Helper()
	res := c.Do(t, http.MethodGet, "/bonds/"+id+"/revisions", "", nil)
	require.Equal(t, http.StatusOK, res.Status, "%s", res.Body)
	var revs []bond.Revision
	require.NoError(t, json.Unmarshal(res.Body, &revs), "%s", res.Body)
	return revs
}

// notCreated checks that bond NEW does not exist.
func notCreated(t *testing.T, c *Client, _ Response) {
	t.Helper()
	assert.Equal(t, http.StatusNotFound, c.Do(t, http.MethodGet, "/bonds/NEW", "", nil).Status, "NEW not created")
}

// replayCase is setup (when set), a request sent with key, then between
// (when set), then the same request again: the second answer must be the
// first, byte for byte (status, Location, ETag, Content-Type, body), marked
// as replayed; after then checks the state. B1 is seeded.
func replayCase(name string, setup func(t *testing.T, c *Client), method, path, body, key string, between, after func(t *testing.T, c *Client)) testCase {
	h := Header{httpapi.IdempotencyKeyHeader: key}
	var first Response
	return testCase{name: name, seed: []bond.Bond{b1()}, method: method, path: path, body: body, header: h,
		before: func(t *testing.T, c *Client) {
			if setup != nil {
				setup(t, c)
			}
			first = c.Do(t, method, path, body, h)
			require.Less(t, first.Status, 300, "first answer: %s", first.Body)
			assert.Empty(t, first.Header.Get(httpapi.ReplayedHeader), "the first answer is no replay")
			if between != nil {
				between(t, c)
			}
		},
		status: firstStatus(method, path),
		check: func(t *testing.T, c *Client, res Response) {
			assert.Equal(t, string(first.Body), string(res.Body), "body")
			for _, name := range []string{"Location", "ETag", "Content-Type"} {
				assert.Equal(t, first.Header.Get(name), res.Header.Get(name), name)
			}
			assert.Equal(t, "true", res.Header.Get(httpapi.ReplayedHeader))
			if after != nil {
				after(t, c)
			}
		}}
}

// firstStatus is the success status of a POST route.
func firstStatus(method, path string) int {
	if method == http.MethodPost && strings.TrimSuffix(path, "/") == "/bonds" {
		return http.StatusCreated
	}
	return http.StatusOK
}
