package apitest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bondregistry/bond-registry/internal/bond"
)

// revision is a revision as the API sends it (its time read in exactly
// bond.TimeLayout).
type revision = bond.Revision

// decodeRevisions reads a page of revisions and checks the form of each:
// written through the API (no keys) by anonymous with a request id, seeded
// by system without one.
func decodeRevisions(t *testing.T, body []byte) []revision {
	t.Helper()
	var revs []revision
	require.NoError(t, json.Unmarshal(body, &revs), "revisions: %s", body)
	for _, r := range revs {
		assert.False(t, r.Time.IsZero(), "revision %d: time", r.Revision)
		if r.Actor == bond.SystemActor { // seeded by the test, outside a request
			assert.Empty(t, r.RequestID, "revision %d: request_id", r.Revision)
		} else {
			assert.Equal(t, bond.AnonymousActor, r.Actor, "revision %d: actor", r.Revision)
			assert.NotEmpty(t, r.RequestID, "revision %d: request_id", r.Revision)
		}
		assert.Equal(t, r.Operation == bond.OpDelete, r.Deleted, "revision %d: deleted", r.Revision)
		assert.NotNil(t, r.Bond.Subscribers, "revision %d: bond.subscribers present", r.Revision)
	}
	return revs
}

// revisionsOf lists every revision of id through the API, newest first.
func revisionsOf(t *testing.T, c *Client, id string) []revision {
	t.Helper()
	res := c.Do(t, http.MethodGet, "/bonds/"+url.PathEscape(id)+"/revisions?limit=1000", "", nil)
	require.Equal(t, http.StatusOK, res.Status, "revisions of %s: %s", id, res.Body)
	return decodeRevisions(t, res.Body)
}

// summary is "revision:operation:version" for each revision.
func summary(revs []revision) []string {
	out := make([]string, len(revs))
	for i, r := range revs {
		out[i] = fmt.Sprintf("%d:%s:%d", r.Revision, r.Operation, r.Version)
	}
	return out
}

// wantHistory checks the revisions of B1 (newest first) by summary.
func wantHistory(want ...string) func(t *testing.T, c *Client, res Response) {
	return func(t *testing.T, c *Client, _ Response) {
		t.Helper()
		assert.Equal(t, want, summary(revisionsOf(t, c, "B1")))
	}
}

// do sends a write that must succeed (a 2xx).
func do(t *testing.T, c *Client, method, path, body string, h Header) {
	t.Helper()
	res := c.Do(t, method, path, body, h)
	require.Less(t, res.Status, 300, "%s %s: %d %s", method, path, res.Status, res.Body)
}

// history writes B1's revisions 2-4 through the API (B1 seeded: revision
// 1): an update, a subscriber put, a subscriber remove.
func history(t *testing.T, c *Client) {
	t.Helper()
	do(t, c, http.MethodPut, "/bonds/B1", `{"sub_cost_center": "green"}`, nil)
	do(t, c, http.MethodPost, "/bonds/B1/subscribers", `{"sid": "bob", "name": "Bob", "email": "bob@example.com"}`, nil)
	do(t, c, http.MethodDelete, "/bonds/B1/subscribers/aorr", "", nil)
}

// deleted deletes B1 through the API.
func deleted(t *testing.T, c *Client) { do(t, c, http.MethodDelete, "/bonds/B1", "", nil) }

func revisionCases() []testCase {
	seed := []bond.Bond{b1()}
	b1v := func(v int64) bond.Bond { b := b1(); b.Version = v; return b }
	pairB9 := `{"bond_id": "B9", "host_account_id": "HOST1", "sub_account_id": "SUB1", "host_cost_center": "a", "sub_cost_center": "b"}`
	badRev := []Problem{p("type_error.integer", "path", "revision")}
	return []testCase{
		// GET /bonds/{bond_id}/revisions
		{name: "revisions-200", seed: seed, before: history, path: "/bonds/B1/revisions",
			status: http.StatusOK, check: func(t *testing.T, _ *Client, res Response) {
				revs := decodeRevisions(t, res.Body)
				assert.Equal(t, []string{"4:subscriber_remove:4", "3:subscriber_put:3", "2:update:2", "1:create:1"}, summary(revs))
				assert.Empty(t, res.Header.Get("Link"), "one page")
				assert.Equal(t, b1().Subscribers, revs[3].Bond.Subscribers, "revision 1 is the bond as created")
				assert.Equal(t, "green", revs[0].Bond.SubCostCenter, "revision 4 is the bond after the write")
				assert.NotContains(t, revs[0].Bond.Subscribers, "aorr")
			}},
		{name: "revisions-200-trailing-slash", seed: seed, path: "/bonds/B1/revisions/", status: http.StatusOK,
			check: func(t *testing.T, _ *Client, res Response) {
				assert.Equal(t, []string{"1:create:1"}, summary(decodeRevisions(t, res.Body)))
			}},
		{name: "revisions-200-after-delete", seed: seed, before: deleted, path: "/bonds/B1/revisions",
			status: http.StatusOK, check: func(t *testing.T, _ *Client, res Response) {
				revs := decodeRevisions(t, res.Body)
				assert.Equal(t, []string{"2:delete:1", "1:create:1"}, summary(revs))
				assert.Equal(t, revs[1].Bond, revs[0].Bond, "a delete records the representation deleted")
			}},
		{name: "revisions-200-recreated", seed: seed, before: func(t *testing.T, c *Client) {
			deleted(t, c)
			do(t, c, http.MethodPost, "/bonds", createBody("B1", `{}`), nil)
		}, path: "/bonds/B1/revisions", status: http.StatusOK, check: wantHistory("3:create:2", "2:delete:1", "1:create:1")},
		{name: "revisions-200-no-op-appends-none", seed: seed, before: func(t *testing.T, c *Client) {
			do(t, c, http.MethodPut, "/bonds/B1", `{"sub_cost_center": "yellow"}`, nil)
			do(t, c, http.MethodDelete, "/bonds/B1/subscribers/nobody", "", nil)
			do(t, c, http.MethodPost, "/bonds/B1/subscribers", `{"sid": "aorr", "name": "Aaron Orr", "email": "aaron.orr@example.com"}`, nil)
		}, path: "/bonds/B1/revisions", status: http.StatusOK, check: wantHistory("1:create:1")},
		{name: "revisions-404-never", path: "/bonds/NOPE/revisions", status: http.StatusNotFound, detail: "Bond NOPE has no revisions."},
		{name: "revisions-422-limit-0", seed: seed, path: "/bonds/B1/revisions?limit=0", status: http.StatusUnprocessableEntity,
			problems: []Problem{p("value_error.number.not_ge", "query", "limit")}},
		{name: "revisions-422-limit-1001", seed: seed, path: "/bonds/B1/revisions?limit=1001", status: http.StatusUnprocessableEntity,
			problems: []Problem{p("value_error.number.not_le", "query", "limit")}},
		{name: "revisions-422-extra", seed: seed, path: "/bonds/B1/revisions?by_host=true&limit=x", status: http.StatusUnprocessableEntity,
			problems: []Problem{p("value_error.extra", "query", "by_host"), p("type_error.integer", "query", "limit")}},
		{name: "revisions-422-bad-token", seed: seed, path: "/bonds/B1/revisions?next_token=garbage", status: http.StatusUnprocessableEntity,
			problems: []Problem{p("value_error.next_token", "query", "next_token")}},
		{name: "revisions-422-path", path: "/bonds/B1%2F../revisions", status: http.StatusUnprocessableEntity,
			problems: []Problem{p("value_error.str.slash", "path", "bond_id")}},

		// GET /bonds/{bond_id}/revisions/{revision}
		{name: "revision-200", seed: seed, before: history, path: "/bonds/B1/revisions/2", status: http.StatusOK,
			check: func(t *testing.T, _ *Client, res Response) {
				assert.Equal(t, `"2"`, res.Header.Get("ETag"), "the entity tag of the version it recorded")
				revs := decodeRevisions(t, append(append([]byte("["), res.Body...), ']'))
				assert.Equal(t, []string{"2:update:2"}, summary(revs))
				assert.Equal(t, "B1", revs[0].BondID)
				assert.Equal(t, "green", revs[0].Bond.SubCostCenter)
			}},
		{name: "revision-200-delete", seed: seed, before: deleted, path: "/bonds/B1/revisions/2", status: http.StatusOK,
			check: func(t *testing.T, _ *Client, res Response) {
				assert.Equal(t, `"1"`, res.Header.Get("ETag"), "the version deleted")
				assert.Contains(t, string(res.Body), `"deleted":true`)
			}},
		{name: "revision-404", seed: seed, path: "/bonds/B1/revisions/2", status: http.StatusNotFound, detail: "Revision 2 of bond B1 not found."},
		{name: "revision-404-no-bond", path: "/bonds/NOPE/revisions/1", status: http.StatusNotFound, detail: "Revision 1 of bond NOPE not found."},
		{name: "revision-422-zero", seed: seed, path: "/bonds/B1/revisions/0", status: http.StatusUnprocessableEntity, problems: badRev},
		{name: "revision-422-leading-zero", seed: seed, path: "/bonds/B1/revisions/01", status: http.StatusUnprocessableEntity, problems: badRev},
		{name: "revision-422-sign", seed: seed, path: "/bonds/B1/revisions/+1", status: http.StatusUnprocessableEntity, problems: badRev},
		{name: "revision-422-word", seed: seed, path: "/bonds/B1/revisions/one", status: http.StatusUnprocessableEntity, problems: badRev},
		{name: "revision-422-too-big", seed: seed, path: "/bonds/B1/revisions/9007199254740993", status: http.StatusUnprocessableEntity, problems: badRev},
		{name: "revision-422-both", path: "/bonds/B1%2F../revisions/-1", status: http.StatusUnprocessableEntity,
			problems: []Problem{p("value_error.str.slash", "path", "bond_id"), badRev[0]}},

		// POST /bonds/{bond_id}/revisions/{revision}/restore
		{name: "restore-200", seed: seed, before: history, method: http.MethodPost, path: "/bonds/B1/revisions/1/restore",
			status: http.StatusOK, check: func(t *testing.T, c *Client, res Response) {
				wantBond(b1v(5))(t, c, res)
				assert.Equal(t, b1v(5), getBond(t, c, "/bonds/B1"))
				wantHistory("5:restore:5", "4:subscriber_remove:4", "3:subscriber_put:3", "2:update:2", "1:create:1")(t, c, res)
			}},
		{name: "restore-200-no-op", seed: seed, method: http.MethodPost, path: "/bonds/B1/revisions/1/restore",
			status: http.StatusOK, check: func(t *testing.T, c *Client, res Response) {
				wantBond(b1v(1))(t, c, res)
				wantHistory("1:create:1")(t, c, res)
			}},
		{name: "restore-200-if-match", seed: seed, before: history, method: http.MethodPost, path: "/bonds/B1/revisions/1/restore",
			header: Header{"If-Match": `"4"`}, status: http.StatusOK, check: wantBond(b1v(5))},
		{name: "restore-412-if-match-stale", seed: seed, before: history, method: http.MethodPost, path: "/bonds/B1/revisions/1/restore",
			header: Header{"If-Match": `"1"`}, status: http.StatusPreconditionFailed,
			check: func(t *testing.T, c *Client, res Response) {
				assert.Equal(t, int64(4), getBond(t, c, "/bonds/B1").Version, "unchanged")
				wantHistory("4:subscriber_remove:4", "3:subscriber_put:3", "2:update:2", "1:create:1")(t, c, res)
			}},
		{name: "restore-200-deleted", seed: seed, before: deleted, method: http.MethodPost, path: "/bonds/B1/revisions/1/restore",
			status: http.StatusOK, check: func(t *testing.T, c *Client, res Response) {
				wantBond(b1v(2))(t, c, res) // versions go on after the deleted life's
				assert.Equal(t, b1v(2), getBond(t, c, "/bonds/B1"))
				wantHistory("3:restore:2", "2:delete:1", "1:create:1")(t, c, res)
			}},
		{name: "restore-200-delete-revision", seed: seed, before: deleted, method: http.MethodPost, path: "/bonds/B1/revisions/2/restore",
			status: http.StatusOK, check: wantBond(b1v(2))},
		{name: "restore-200-deleted-if-none-match-star", seed: seed, before: deleted, method: http.MethodPost,
			path: "/bonds/B1/revisions/1/restore", header: Header{"If-None-Match": "*"}, status: http.StatusOK, check: wantBond(b1v(2))},
		{name: "restore-412-deleted-if-match", seed: seed, before: deleted, method: http.MethodPost, path: "/bonds/B1/revisions/1/restore",
			header: Header{"If-Match": `"1"`}, status: http.StatusPreconditionFailed,
			check: func(t *testing.T, c *Client, res Response) {
				assert.Equal(t, http.StatusNotFound, c.Do(t, http.MethodGet, "/bonds/B1", "", nil).Status, "still deleted")
			}},
		{name: "restore-409-pair-taken-deleted", seed: seed, before: func(t *testing.T, c *Client) {
			deleted(t, c)
			do(t, c, http.MethodPost, "/bonds", pairB9, nil)
		}, method: http.MethodPost, path: "/bonds/B1/revisions/1/restore", status: http.StatusConflict,
			detail: "A bond already exists for host account HOST1 and subscriber account SUB1: bond_id=B9",
			check:  wantHistory("2:delete:1", "1:create:1")},
		{name: "restore-409-pair-taken", seed: seed, before: func(t *testing.T, c *Client) {
			do(t, c, http.MethodPut, "/bonds/B1", `{"host_account_id": "HOSTX"}`, nil)
			do(t, c, http.MethodPost, "/bonds", pairB9, nil)
		}, method: http.MethodPost, path: "/bonds/B1/revisions/1/restore", status: http.StatusConflict,
			detail: "A bond already exists for host account HOST1 and subscriber account SUB1: bond_id=B9",
			check:  wantHistory("2:update:2", "1:create:1")},
		{name: "restore-404", seed: seed, method: http.MethodPost, path: "/bonds/B1/revisions/9/restore",
			status: http.StatusNotFound, detail: "Revision 9 of bond B1 not found."},
		{name: "restore-404-no-bond", method: http.MethodPost, path: "/bonds/NOPE/revisions/1/restore",
			status: http.StatusNotFound, detail: "Revision 1 of bond NOPE not found."},
		{name: "restore-422", seed: seed, method: http.MethodPost, path: "/bonds/B1/revisions/x/restore",
			status: http.StatusUnprocessableEntity, problems: badRev},
	}
}

// testRevisionPaginate walks a bond's 23 revisions with several limits:
// newest first, each exactly once, Link keeping the limit; a token is
// signed and bound to its bond.
func (s suite) testRevisionPaginate(t *testing.T) {
	t.Parallel()
	repo, c := s.env(t)
	const n = 23
	_, err := bond.Create(t.Context(), repo, b1())
	require.NoError(t, err)
	_, err = bond.Create(t.Context(), repo, b2())
	require.NoError(t, err)
	for i := 2; i <= n; i++ {
		do(t, c, http.MethodPut, "/bonds/B1", fmt.Sprintf(`{"sub_cost_center": "c%d"}`, i), nil)
	}
	var want []int64
	for i := int64(n); i >= 1; i-- {
		want = append(want, i)
	}
	for _, limit := range []int{1, 2, 5, 22, 23, 24, 100} {
		t.Run(fmt.Sprintf("limit-%d", limit), func(t *testing.T) {
			path := fmt.Sprintf("/bonds/B1/revisions?limit=%d", limit)
			if limit == bond.DefaultPageLimit {
				path = "/bonds/B1/revisions"
			}
			var got []int64
			for pages := 0; path != ""; pages++ {
				require.Less(t, pages, n+2, "too many pages")
				res := c.Do(t, http.MethodGet, path, "", nil)
				require.Equal(t, http.StatusOK, res.Status, "GET %s: %s", path, res.Body)
				page := decodeRevisions(t, res.Body)
				require.NotEmpty(t, page)
				assert.LessOrEqual(t, len(page), limit, "page size")
				for _, r := range page {
					got = append(got, r.Revision)
				}
				path = revisionsNext(t, res)
				if path != "" && limit != bond.DefaultPageLimit {
					assert.Contains(t, path, fmt.Sprintf("limit=%d", limit), "Link keeps limit")
				}
			}
			assert.Equal(t, want, got, "every revision once, newest first")
		})
	}
	t.Run("token-signed", func(t *testing.T) {
		next := revisionsNext(t, c.Do(t, http.MethodGet, "/bonds/B1/revisions?limit=2", "", nil))
		require.NotEmpty(t, next)
		token := tokenOf(t, next)
		bad := []Problem{p("value_error.next_token", "query", "next_token")}
		for name, path := range map[string]string{
			"other bond": "/bonds/B2/revisions?next_token=" + url.QueryEscape(token),
			"tampered":   "/bonds/B1/revisions?next_token=" + url.QueryEscape(tamper(token)),
		} {
			res := c.Do(t, http.MethodGet, path, "", nil)
			require.Equal(t, http.StatusUnprocessableEntity, res.Status, "%s: %s", name, res.Body)
			checkErrorBody(t, res, "", bad)
		}
		res := c.Do(t, http.MethodGet, next, "", nil)
		require.Equal(t, http.StatusOK, res.Status)
		assert.Equal(t, []string{"21:update:21", "20:update:20"}, summary(decodeRevisions(t, res.Body)))
	})
}

// tamper changes one character of a token.
func tamper(token string) string {
	b := []byte(token)
	i := len(b) / 2
	if b[i] == 'A' {
		b[i] = 'B'
	} else {
		b[i] = 'A'
	}
	return string(b)
}

// revisionsNext returns the target of a revisions page's Link rel="next",
// "" when it has none.
func revisionsNext(t *testing.T, res Response) string {
	t.Helper()
	link := res.Header.Get("Link")
	if link == "" {
		return ""
	}
	m := linkNext.FindStringSubmatch(link)
	require.NotNil(t, m, "Link header %q", link)
	require.True(t, strings.HasPrefix(m[1], "/bonds/") && strings.Contains(m[1], "/revisions?"), "Link target %q", m[1])
	return m[1]
}
