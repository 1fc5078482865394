package apitest

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/bondregistry/bond-registry/internal/bond"
	"github.com/bondregistry/bond-registry/internal/httpapi"
)

func updateCases() []testCase {
	const unprocessable = http.StatusUnprocessableEntity
	put := func(tc testCase) testCase {
		tc.method = http.MethodPut
		if tc.path == "" {
			tc.path = "/bonds/B1"
		}
		if tc.seed == nil {
			tc.seed = []bond.Bond{b1(), b2()}
		}
		return tc
	}
	v2 := func(f func(b *bond.Bond)) bond.Bond {
		return with(b1(), func(b *bond.Bond) { f(b); b.Version = 2 })
	}
	recolored := v2(func(b *bond.Bond) { b.HostCostCenter = "red" })
	updated := func(want bond.Bond) func(t *testing.T, c *Client, res Response) {
		return func(t *testing.T, c *Client, res Response) {
			t.Helper()
			wantBond(want)(t, c, res)
			assert.Equal(t, want, getBond(t, c, "/bonds/"+url.PathEscape(want.BondID)), "stored")
		}
	}
	odd := withID(b1(), oddID)

	cases := []testCase{
		{name: "update-200-partial", body: `{"host_cost_center": "red"}`, status: http.StatusOK, check: updated(recolored)},
		{name: "update-200-empty-object-keeps-version", body: `{}`, status: http.StatusOK, check: updated(with(b1(), func(b *bond.Bond) { b.Version = 1 }))},
		{name: "update-200-same-values-keep-version", body: `{"host_cost_center": "teal", "sub_cost_center": "yellow"}`,
			status: http.StatusOK, check: updated(with(b1(), func(b *bond.Bond) { b.Version = 1 }))},
		{name: "update-200-every-field", body: `{"bond_id": "B1", "host_account_id": "H9", "sub_account_id": "S9",
			"host_cost_center": "c1", "sub_cost_center": "c2", "subscribers": {}}`, status: http.StatusOK,
			check: updated(v2(func(b *bond.Bond) {
				b.HostAccountID, b.SubAccountID, b.HostCostCenter, b.SubCostCenter = "H9", "S9", "c1", "c2"
				b.Subscribers = map[string]bond.Subscriber{}
			}))},
		{name: "update-200-subscribers-replace-map", body: `{"subscribers": {"zed": {"sid": "zed", "name": "Zed", "email": "zed@example.com"}}}`,
			status: http.StatusOK, check: updated(v2(func(b *bond.Bond) {
				b.Subscribers = map[string]bond.Subscriber{"zed": {SID: "zed", Name: "Zed", Email: "zed@example.com"}}
			}))},
		{name: "update-200-if-match", body: `{"host_cost_center": "red"}`, header: Header{"If-Match": `"1"`},
			status: http.StatusOK, check: updated(recolored)},
		{name: "update-200-if-match-star", body: `{"host_cost_center": "red"}`, header: Header{"If-Match": `*`},
			status: http.StatusOK, check: updated(recolored)},
		{name: "update-200-own-pair", body: `{"host_account_id": "HOST1", "sub_account_id": "SUB1"}`,
			status: http.StatusOK, check: updated(with(b1(), func(b *bond.Bond) { b.Version = 1 }))},
		{name: "update-200-escaped-id", seed: []bond.Bond{odd}, path: "/bonds/my%20bond%20%C3%BC%2050%25",
			body: `{"sub_cost_center": "red"}`, status: http.StatusOK,
			check: updated(with(odd, func(b *bond.Bond) { b.SubCostCenter = "red"; b.Version = 2 }))},
		{name: "update-404", path: "/bonds/NOPE", body: `{"host_cost_center": "red"}`,
			status: http.StatusNotFound, detail: "Bond NOPE not found."},
		{name: "update-409-pair", path: "/bonds/B2", body: `{"host_account_id": "HOST1", "sub_account_id": "SUB1"}`,
			status: http.StatusConflict,
			detail: "A bond already exists for host account HOST1 and subscriber account SUB1: bond_id=B1",
			check:  versionThen("/bonds/B2", 1, func(t *testing.T, b bond.Bond) { assert.Equal(t, "HOST2", b.HostAccountID) })},
		{name: "update-412-stale", body: `{"host_cost_center": "red"}`, header: Header{"If-Match": `"7"`},
			status: http.StatusPreconditionFailed, check: stillB1},
		{name: "update-412-after-write", body: `{"host_cost_center": "red"}`, header: Header{"If-Match": `"1"`},
			before: func(t *testing.T, c *Client) {
				res := c.Do(t, http.MethodPut, "/bonds/B1", `{"sub_cost_center": "green"}`, nil)
				assert.Equal(t, http.StatusOK, res.Status, "first write: %s", res.Body)
			},
			status: http.StatusPreconditionFailed,
			check:  versionThen("/bonds/B1", 2, func(t *testing.T, b bond.Bond) { assert.Equal(t, "teal", b.HostCostCenter) })},
		{name: "update-412-weak-if-match", body: `{"host_cost_center": "red"}`, header: Header{"If-Match": `W/"1"`},
			status: http.StatusPreconditionFailed, check: stillB1},
		{name: "update-412-malformed-if-match", body: `{"host_cost_center": "red"}`, header: Header{"If-Match": `one`},
			status: http.StatusPreconditionFailed, check: stillB1},
		{name: "update-412-missing-with-if-match", path: "/bonds/NOPE", body: `{"host_cost_center": "red"}`,
			header: Header{"If-Match": `"1"`}, status: http.StatusPreconditionFailed},
		{name: "update-412-missing-with-if-match-star", path: "/bonds/NOPE", body: `{"host_cost_center": "red"}`,
			header: Header{"If-Match": `*`}, status: http.StatusPreconditionFailed},
		{name: "update-422-bond-id-mismatch", body: `{"bond_id": "B2", "host_cost_center": "red"}`, status: unprocessable,
			problems: []Problem{p("value_error.bond_id_mismatch", "body", "bond_id")}, check: stillB1},
		{name: "update-422-type-number", body: `{"host_cost_center": 5}`, status: unprocessable,
			problems: []Problem{p("type_error.str", "body", "host_cost_center")}, check: stillB1},
		{name: "update-422-type-null", body: `{"host_cost_center": null}`, status: unprocessable,
			problems: []Problem{p("type_error.none.not_allowed", "body", "host_cost_center")}},
		{name: "update-422-type-subscribers", body: `{"subscribers": ["bob"]}`, status: unprocessable,
			problems: []Problem{p("type_error.dict", "body", "subscribers")}},
		{name: "update-422-bad-email", body: `{"subscribers": {"bob": {"sid": "bob", "name": "Bob", "email": "bob"}}}`, status: unprocessable,
			problems: []Problem{p("value_error.email", "body", "subscribers", "bob", "email")}},
		{name: "update-422-sid-mismatch", body: `{"subscribers": {"bob": {"sid": "rob", "name": "Bob", "email": "bob@example.com"}}}`, status: unprocessable,
			problems: []Problem{p("value_error.sid_mismatch", "body", "subscribers", "bob", "sid")}},
		{name: "update-422-too-many-subscribers", body: `{"subscribers": ` + subscribersJSON(bond.MaxSubscribers+1, 3) + `}`, status: unprocessable,
			problems: []Problem{p("value_error.subscribers.max_items", "body", "subscribers")}},
		{name: "update-422-bond-too-large", body: `{"subscribers": ` + subscribersJSON(700, 700) + `}`, status: unprocessable,
			problems: []Problem{p("value_error.bond_too_large", "body")}, check: stillB1},
		{name: "update-422-empty-value", body: `{"sub_account_id": ""}`, status: unprocessable,
			problems: []Problem{p("value_error.any_str.min_length", "body", "sub_account_id")}},
		{name: "update-422-extra-field", body: `{"version": "2"}`, status: unprocessable,
			problems: []Problem{p("value_error.extra", "body", "version")}},
		{name: "update-422-malformed-json", body: `{"host_cost_center": `, status: unprocessable,
			problems: []Problem{p("value_error.jsondecode", "body")}},
		{name: "update-422-path-and-body", path: "/bonds/%20B1", body: `{"host_cost_center": 1}`, status: unprocessable,
			problems: []Problem{p("value_error.str.whitespace", "path", "bond_id"), p("type_error.str", "body", "host_cost_center")}},
		{name: "update-413", body: `{"host_cost_center": "` + strings.Repeat("x", httpapi.MaxBodyBytes) + `"}`,
			status: http.StatusRequestEntityTooLarge, detail: "Request body too large (limit 1 MiB).", check: stillB1},
		{name: "update-415", body: `{"host_cost_center": "red"}`, header: Header{"Content-Type": "text/json"},
			status: http.StatusUnsupportedMediaType, check: stillB1},
	}
	for i := range cases {
		cases[i] = put(cases[i])
	}
	return cases
}
