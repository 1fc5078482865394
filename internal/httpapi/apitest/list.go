package apitest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bondregistry/bond-registry/internal/bond"
)

// listSeed is three bonds: B1 (host teal/HOST1, sub yellow/SUB1), B2 (host
// olive/HOST2, sub blue/SUB2), B3 (host teal/HOST3, sub blue/SUB3).
func listSeed() []bond.Bond {
	b3 := withID(b2(), "B3")
	b3.HostAccountID, b3.SubAccountID, b3.HostCostCenter = "HOST3", "SUB3", "teal"
	return []bond.Bond{b1(), b2(), b3}
}

// ids returns a check that the body is a JSON array of exactly these bonds
// (in any order), and that there is no next page.
func ids(want ...string) func(t *testing.T, c *Client, res Response) {
	return func(t *testing.T, _ *Client, res Response) {
		t.Helper()
		got := listIDs(t, res)
		slices.Sort(got)
		if want == nil {
			want = []string{}
		}
		assert.Equal(t, want, got)
		assert.Empty(t, res.Header.Get("Link"), "no next page")
	}
}

// listIDs decodes a listing, which must be a JSON array (never null), and
// returns the ids in order.
func listIDs(t *testing.T, res Response) []string {
	t.Helper()
	assert.Equal(t, "application/json", res.Header.Get("Content-Type"))
	require.True(t, strings.HasPrefix(string(res.Body), "["), "a JSON array: %s", res.Body)
	var bonds []bond.Bond
	require.NoError(t, json.Unmarshal(res.Body, &bonds), "body: %s", res.Body)
	got := []string{}
	for _, b := range bonds {
		require.NotNil(t, b.Subscribers, "subscribers is present in %s", b.BondID)
		got = append(got, b.BondID)
	}
	return got
}

func listCases() []testCase {
	seed := listSeed()
	bad := func(name, typ string) []Problem { return []Problem{p(typ, "query", name)} }
	return []testCase{
		{name: "list-200-empty", path: "/bonds", status: http.StatusOK, check: ids()},
		{name: "list-200-all", seed: seed, path: "/bonds", status: http.StatusOK, check: ids("B1", "B2", "B3")},
		{name: "list-200-trailing-slash", seed: seed, path: "/bonds/", status: http.StatusOK, check: ids("B1", "B2", "B3")},
		{name: "list-200-full-bonds", seed: []bond.Bond{b1()}, path: "/bonds", status: http.StatusOK,
			check: func(t *testing.T, _ *Client, res Response) {
				var got []bond.Bond
				require.NoError(t, json.Unmarshal(res.Body, &got))
				assert.Equal(t, []bond.Bond{b1()}, got)
			}},
		{name: "list-200-host-cost-center", seed: seed, path: "/bonds?cost_center_id=teal", status: http.StatusOK, check: ids("B1", "B3")},
		{name: "list-200-host-account", seed: seed, path: "/bonds?account_id=HOST2", status: http.StatusOK, check: ids("B2")},
		{name: "list-200-host-account-and-cost-center", seed: seed, path: "/bonds?account_id=HOST3&cost_center_id=teal", status: http.StatusOK, check: ids("B3")},
		{name: "list-200-account-cost-center-mismatch", seed: seed, path: "/bonds?account_id=HOST2&cost_center_id=teal", status: http.StatusOK, check: ids()},
		{name: "list-200-by-host-true", seed: seed, path: "/bonds?by_host=true&cost_center_id=olive", status: http.StatusOK, check: ids("B2")},
		{name: "list-200-by-host-1", seed: seed, path: "/bonds?by_host=1&cost_center_id=olive", status: http.StatusOK, check: ids("B2")},
		{name: "list-200-sub-cost-center", seed: seed, path: "/bonds?by_host=false&cost_center_id=blue", status: http.StatusOK, check: ids("B2", "B3")},
		{name: "list-200-sub-account", seed: seed, path: "/bonds?by_host=0&account_id=SUB1", status: http.StatusOK, check: ids("B1")},
		{name: "list-200-sub-side-no-host-match", seed: seed, path: "/bonds?by_host=false&account_id=HOST1", status: http.StatusOK, check: ids()},
		{name: "list-200-escaped-filter", seed: []bond.Bond{with(b1(), func(b *bond.Bond) { b.HostCostCenter = "a b&c=d ü" })},
			path: "/bonds?cost_center_id=" + url.QueryEscape("a b&c=d ü"), status: http.StatusOK, check: ids("B1")},
		{name: "list-422-unknown-param", seed: seed, path: "/bonds?colour=red", status: http.StatusUnprocessableEntity, problems: bad("colour", "value_error.extra")},
		{name: "list-422-body-field-name-as-filter", seed: seed, path: "/bonds?host_cost_center=olive&limit=2", status: http.StatusUnprocessableEntity,
			problems: bad("host_cost_center", "value_error.extra")},
		{name: "list-422-parameter-names-are-case-sensitive", path: "/bonds?Limit=2&cost_center_id=teal", status: http.StatusUnprocessableEntity,
			problems: bad("Limit", "value_error.extra")},
		{name: "list-200-limit-1000", seed: seed, path: "/bonds?limit=1000", status: http.StatusOK, check: ids("B1", "B2", "B3")},

		{name: "list-422-limit-not-integer", path: "/bonds?limit=ten", status: http.StatusUnprocessableEntity, problems: bad("limit", "type_error.integer")},
		{name: "list-422-limit-float", path: "/bonds?limit=1.5", status: http.StatusUnprocessableEntity, problems: bad("limit", "type_error.integer")},
		{name: "list-422-limit-0", path: "/bonds?limit=0", status: http.StatusUnprocessableEntity, problems: bad("limit", "value_error.number.not_ge")},
		{name: "list-422-limit-negative", path: "/bonds?limit=-3", status: http.StatusUnprocessableEntity, problems: bad("limit", "value_error.number.not_ge")},
		{name: "list-422-limit-1001", path: "/bonds?limit=1001", status: http.StatusUnprocessableEntity, problems: bad("limit", "value_error.number.not_le")},
		{name: "list-422-limit-huge", path: "/bonds?limit=99999999999999999999999", status: http.StatusUnprocessableEntity, problems: bad("limit", "type_error.integer")},
		{name: "list-422-by-host-unknown", path: "/bonds?by_host=maybe", status: http.StatusUnprocessableEntity, problems: bad("by_host", "type_error.bool")},
		{name: "list-422-by-host-empty", path: "/bonds?by_host=", status: http.StatusUnprocessableEntity, problems: bad("by_host", "type_error.bool")},
		{name: "list-422-cost-center-empty", path: "/bonds?cost_center_id=", status: http.StatusUnprocessableEntity, problems: bad("cost_center_id", "value_error.any_str.min_length")},
		{name: "list-422-account-empty", path: "/bonds?account_id=", status: http.StatusUnprocessableEntity, problems: bad("account_id", "value_error.any_str.min_length")},
		{name: "list-422-account-too-long", path: "/bonds?account_id=" + strings.Repeat("A", bond.MaxIDLen+1), status: http.StatusUnprocessableEntity, problems: bad("account_id", "value_error.any_str.max_length")},
		{name: "list-422-cost-center-control-char", path: "/bonds?cost_center_id=te%00al", status: http.StatusUnprocessableEntity, problems: bad("cost_center_id", "value_error.str.control_characters")},
		{name: "list-422-cost-center-whitespace", path: "/bonds?cost_center_id=+teal", status: http.StatusUnprocessableEntity, problems: bad("cost_center_id", "value_error.str.whitespace")},
		{name: "list-422-bad-query-escape", path: "/bonds?cost_center_id=%zz", status: http.StatusUnprocessableEntity, problems: []Problem{p("value_error.query", "query")}},
		{name: "list-422-token-garbage", path: "/bonds?next_token=garbage", status: http.StatusUnprocessableEntity, problems: bad("next_token", "value_error.next_token")},
		{name: "list-422-token-empty", path: "/bonds?next_token=", status: http.StatusUnprocessableEntity, problems: bad("next_token", "value_error.next_token")},
		{name: "list-422-token-not-base64", path: "/bonds?next_token=%21%21%21%21", status: http.StatusUnprocessableEntity, problems: bad("next_token", "value_error.next_token")},
		{name: "list-422-token-too-long", path: "/bonds?next_token=" + strings.Repeat("A", 10000), status: http.StatusUnprocessableEntity, problems: bad("next_token", "value_error.next_token")},
		{name: "list-422-token-tampered", seed: seed, path: "/bonds?limit=1", status: http.StatusOK,
			check: func(t *testing.T, c *Client, res Response) {
				next := nextPath(t, res)
				token := tokenOf(t, next)
				for i := range token {
					tampered := token[:i] + flip(token[i]) + token[i+1:]
					res := c.Do(t, http.MethodGet, "/bonds?limit=1&next_token="+url.QueryEscape(tampered), "", nil)
					require.Equal(t, http.StatusUnprocessableEntity, res.Status, "token with byte %d changed: %s", i, res.Body)
					checkErrorBody(t, res, "", bad("next_token", "value_error.next_token"))
				}
			}},
		{name: "list-422-token-other-query", seed: seed, path: "/bonds?limit=1&cost_center_id=teal", status: http.StatusOK,
			check: func(t *testing.T, c *Client, res Response) {
				token := tokenOf(t, nextPath(t, res))
				for _, query := range []string{"", "cost_center_id=olive", "cost_center_id=teal&by_host=false", "cost_center_id=teal&account_id=HOST1"} {
					res := c.Do(t, http.MethodGet, "/bonds?limit=1&next_token="+url.QueryEscape(token)+"&"+query, "", nil)
					require.Equal(t, http.StatusUnprocessableEntity, res.Status, "token replayed with %q: %s", query, res.Body)
					checkErrorBody(t, res, "", bad("next_token", "value_error.next_token"))
				}
				// The same query with another limit or an equivalent by_host is the same listing.
				res = c.Do(t, http.MethodGet, "/bonds?limit=5&by_host=1&cost_center_id=teal&next_token="+url.QueryEscape(token), "", nil)
				require.Equal(t, http.StatusOK, res.Status, "token with another limit: %s", res.Body)
			}},
		{name: "list-422-all-problems", path: "/bonds?limit=0&by_host=x&account_id=", status: http.StatusUnprocessableEntity,
			problems: []Problem{p("value_error.number.not_ge", "query", "limit"), p("type_error.bool", "query", "by_host"),
				p("value_error.any_str.min_length", "query", "account_id")}},
	}
}

// flip changes one base64url character into another.
func flip(c byte) string {
	if c == 'A' {
		return "B"
	}
	return "A"
}

var linkNext = regexp.MustCompile(`^<([^>]+)>; rel="next"$`)

// nextPath returns the target of the Link rel="next" header, "" when absent.
func nextPath(t *testing.T, res Response) string {
	t.Helper()
	link := res.Header.Get("Link")
	if link == "" {
		return ""
	}
	m := linkNext.FindStringSubmatch(link)
	require.NotNil(t, m, "Link header %q", link)
	require.True(t, strings.HasPrefix(m[1], "/bonds?"), "Link target %q", m[1])
	return m[1]
}

// tokenOf returns the next_token of a Link target.
func tokenOf(t *testing.T, target string) string {
	t.Helper()
	require.NotEmpty(t, target, "a next page")
	u, err := url.Parse(target)
	require.NoError(t, err)
	token := u.Query().Get("next_token")
	require.NotEmpty(t, token, "next_token in %q", target)
	return token
}

// testPaginate follows rel="next" with several page sizes and filters and
// checks that each matching bond is seen exactly once.
func (s suite) testPaginate(t *testing.T) {
	t.Parallel()
	repo, c := s.env(t)
	const n = 23
	var teal []string
	var all []string
	for i := range n {
		b := withID(b1(), fmt.Sprintf("P%02d", i))
		if i%3 == 0 {
			b.HostCostCenter = "teal"
			teal = append(teal, b.BondID)
		} else {
			b.HostCostCenter = "olive"
		}
		_, err := bond.Create(t.Context(), repo, b)
		require.NoError(t, err)
		all = append(all, b.BondID)
	}
	for _, tc := range []struct {
		query string
		want  []string
	}{
		{"", all},
		{"cost_center_id=teal", teal},
		{"cost_center_id=teal&by_host=true", teal},
	} {
		for _, limit := range []int{1, 2, 3, 5, 7, 22, 23, 24, 100} {
			t.Run(fmt.Sprintf("limit-%d-%s", limit, tc.query), func(t *testing.T) {
				path := fmt.Sprintf("/bonds?limit=%d", limit)
				if tc.query != "" {
					path += "&" + tc.query
				}
				var got []string
				for pages := 0; path != ""; pages++ {
					require.Less(t, pages, n+2, "too many pages")
					res := c.Do(t, http.MethodGet, path, "", nil)
					require.Equal(t, http.StatusOK, res.Status, "GET %s: %s", path, res.Body)
					page := listIDs(t, res)
					assert.LessOrEqual(t, len(page), limit, "page size")
					got = append(got, page...)
					path = nextPath(t, res)
					if path != "" {
						assert.Contains(t, path, fmt.Sprintf("limit=%d", limit), "Link keeps limit")
						for kv := range strings.SplitSeq(tc.query, "&") {
							assert.Contains(t, path, kv, "Link keeps the filter")
						}
					}
				}
				slices.Sort(got)
				assert.Equal(t, tc.want, got, "every bond exactly once")
			})
		}
	}
}
