package apitest

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/bondregistry/bond-registry/internal/bond"
	"github.com/bondregistry/bond-registry/internal/httpapi"
)

// newBond is the bond of newBondJSON, as created.
func newBond() bond.Bond {
	return bond.Bond{BondID: "NEW", HostAccountID: "HNEW", SubAccountID: "SNEW",
		HostCostCenter: "teal", SubCostCenter: "yellow", Version: 1,
		Subscribers: map[string]bond.Subscriber{"bob": {SID: "bob", Name: "Bob Smith", Email: "bob@example.com"}}}
}

// created checks a 201: Location, ETag "1", the bond in the body, and that
// GET on Location returns the same bond.
func created(want bond.Bond) func(t *testing.T, c *Client, res Response) {
	return func(t *testing.T, c *Client, res Response) {
		t.Helper()
		loc := res.Header.Get("Location")
		assert.Equal(t, "/bonds/"+url.PathEscape(want.BondID), loc, "Location")
		assert.Equal(t, `"1"`, res.Header.Get("ETag"))
		wantBond(want)(t, c, res)
		assert.Equal(t, want, getBond(t, c, loc), "GET Location")
	}
}

func createCases() []testCase {
	const unprocessable = http.StatusUnprocessableEntity
	post := func(tc testCase) testCase {
		tc.method = http.MethodPost
		if tc.path == "" {
			tc.path = "/bonds"
		}
		return tc
	}
	// field replaces one member of newBondJSON's top level.
	field := func(name, value string) string {
		re := regexp.MustCompile(`"` + name + `": "[^"]*"`)
		return re.ReplaceAllLiteralString(newBondJSON, `"`+name+`": `+value)
	}
	// without removes one member (it must not be the last).
	without := func(name string) string {
		i := strings.Index(newBondJSON, `"`+name+`"`)
		j := i + strings.Index(newBondJSON[i:], ",") + 1
		return newBondJSON[:i] + newBondJSON[j:]
	}
	sub := func(value string) string {
		return createBody("NEW", `{"bob": `+value+`}`)
	}
	noSubs := with(newBond(), func(b *bond.Bond) { b.Subscribers = map[string]bond.Subscriber{} })
	odd := with(newBond(), func(b *bond.Bond) { b.BondID = oddID })
	pairClash := strings.NewReplacer(`"HNEW"`, `"HOST1"`, `"SNEW"`, `"SUB1"`).Replace(newBondJSON)

	cases := []testCase{
		{name: "create-201", body: newBondJSON, status: http.StatusCreated, check: created(newBond())},
		{name: "create-201-trailing-slash", path: "/bonds/", body: newBondJSON, status: http.StatusCreated, check: created(newBond())},
		{name: "create-201-no-subscribers", body: `{"bond_id": "NEW", "host_account_id": "HNEW", "sub_account_id": "SNEW",
			"host_cost_center": "teal", "sub_cost_center": "yellow"}`, status: http.StatusCreated, check: created(noSubs)},
		{name: "create-201-empty-subscribers", body: createBody("NEW", `{}`), status: http.StatusCreated,
			check: func(t *testing.T, c *Client, res Response) {
				assert.Equal(t, "/bonds/NEW", res.Header.Get("Location"))
				assert.Empty(t, decodeBond(t, res).Subscribers)
			}},
		{name: "create-201-escaped-id", body: strings.Replace(newBondJSON, `"NEW"`, `"`+oddID+`"`, 1),
			status: http.StatusCreated, check: created(odd)},
		{name: "create-201-charset", body: newBondJSON, header: Header{"Content-Type": "application/json; charset=utf-8"},
			status: http.StatusCreated, check: created(newBond())},
		{name: "create-201-max-subscribers", body: createBody("NEW", subscribersJSON(bond.MaxSubscribers, 3)), status: http.StatusCreated,
			check: func(t *testing.T, _ *Client, res Response) {
				assert.Len(t, decodeBond(t, res).Subscribers, bond.MaxSubscribers)
			}},
		{name: "create-409-id", seed: []bond.Bond{b1()}, body: strings.Replace(newBondJSON, `"NEW"`, `"B1"`, 1),
			status: http.StatusConflict, detail: "Bond already exists: bond_id=B1", check: stillB1},
		{name: "create-409-pair", seed: []bond.Bond{b1()}, body: pairClash, status: http.StatusConflict,
			detail: "A bond already exists for host account HOST1 and subscriber account SUB1: bond_id=B1",
			check: func(t *testing.T, c *Client, res Response) {
				stillB1(t, c, res)
				assert.Equal(t, http.StatusNotFound, c.Do(t, http.MethodGet, "/bonds/NEW", "", nil).Status, "NEW not created")
			}},

		{name: "create-422-missing-field", body: without("host_account_id"), status: unprocessable,
			problems: []Problem{p("value_error.missing", "body", "host_account_id")}},
		{name: "create-422-missing-everything", body: `{}`, status: unprocessable,
			problems: []Problem{p("value_error.missing", "body", "bond_id"), p("value_error.missing", "body", "host_account_id"),
				p("value_error.missing", "body", "sub_account_id"), p("value_error.missing", "body", "host_cost_center"),
				p("value_error.missing", "body", "sub_cost_center")}},
		{name: "create-422-type-number", body: field("bond_id", `7`), status: unprocessable,
			problems: []Problem{p("type_error.str", "body", "bond_id")}},
		{name: "create-422-type-bool", body: field("host_account_id", `true`), status: unprocessable,
			problems: []Problem{p("type_error.str", "body", "host_account_id")}},
		{name: "create-422-type-array", body: field("sub_account_id", `["a"]`), status: unprocessable,
			problems: []Problem{p("type_error.str", "body", "sub_account_id")}},
		{name: "create-422-type-object", body: field("host_cost_center", `{"a": "b"}`), status: unprocessable,
			problems: []Problem{p("type_error.str", "body", "host_cost_center")}},
		{name: "create-422-type-null", body: field("sub_cost_center", `null`), status: unprocessable,
			problems: []Problem{p("type_error.none.not_allowed", "body", "sub_cost_center")}},
		{name: "create-422-type-subscribers-array", body: createBody("NEW", `[]`), status: unprocessable,
			problems: []Problem{p("type_error.dict", "body", "subscribers")}},
		{name: "create-422-type-subscribers-null", body: createBody("NEW", `null`), status: unprocessable,
			problems: []Problem{p("type_error.none.not_allowed", "body", "subscribers")}},
		{name: "create-422-type-subscriber-string", body: sub(`"bob"`), status: unprocessable,
			problems: []Problem{p("type_error.dict", "body", "subscribers", "bob")}},
		{name: "create-422-type-subscriber-field", body: sub(`{"sid": "bob", "name": 3, "email": false}`), status: unprocessable,
			problems: []Problem{p("type_error.str", "body", "subscribers", "bob", "name"), p("type_error.str", "body", "subscribers", "bob", "email")}},
		{name: "create-422-type-body-array", body: `[1, 2]`, status: unprocessable,
			problems: []Problem{p("type_error.dict", "body")}},
		{name: "create-422-bad-email", body: sub(`{"sid": "bob", "name": "Bob", "email": "bob-at-example.com"}`), status: unprocessable,
			problems: []Problem{p("value_error.email", "body", "subscribers", "bob", "email")}},
		{name: "create-422-email-without-domain", body: sub(`{"sid": "bob", "name": "Bob", "email": "bob@"}`), status: unprocessable,
			problems: []Problem{p("value_error.email", "body", "subscribers", "bob", "email")}},
		{name: "create-422-subscriber-missing-field", body: sub(`{"sid": "bob", "email": "bob@example.com"}`), status: unprocessable,
			problems: []Problem{p("value_error.missing", "body", "subscribers", "bob", "name")}},
		{name: "create-422-sid-mismatch", body: sub(`{"sid": "robert", "name": "Bob", "email": "bob@example.com"}`), status: unprocessable,
			problems: []Problem{p("value_error.sid_mismatch", "body", "subscribers", "bob", "sid")}},
		{name: "create-422-too-many-subscribers", body: createBody("NEW", subscribersJSON(bond.MaxSubscribers+1, 3)), status: unprocessable,
			problems: []Problem{p("value_error.subscribers.max_items", "body", "subscribers")}},
		{name: "create-422-bond-too-large", body: createBody("NEW", subscribersJSON(700, 700)), status: unprocessable,
			problems: []Problem{p("value_error.bond_too_large", "body")}},
		{name: "create-422-malformed-json", body: `{"bond_id": "NEW",`, status: unprocessable,
			problems: []Problem{p("value_error.jsondecode", "body")}},
		{name: "create-422-trailing-garbage", body: newBondJSON + `}`, status: unprocessable,
			problems: []Problem{p("value_error.jsondecode", "body")}},
		{name: "create-422-empty-body", header: Header{"Content-Type": ""}, status: unprocessable,
			problems: []Problem{p("value_error.jsondecode", "body")}},
		{name: "create-422-extra-field", body: strings.Replace(newBondJSON, `{`, `{"colour": "red", `, 1), status: unprocessable,
			problems: []Problem{p("value_error.extra", "body", "colour")}},
		{name: "create-422-extra-subscriber-field", body: sub(`{"sid": "bob", "name": "Bob", "email": "bob@example.com", "age": 3}`), status: unprocessable,
			problems: []Problem{p("value_error.extra", "body", "subscribers", "bob", "age")}},
		{name: "create-422-bond-id-slash", body: strings.Replace(newBondJSON, `"NEW"`, `"a/b"`, 1), status: unprocessable,
			problems: []Problem{p("value_error.str.slash", "body", "bond_id")}},
		{name: "create-422-id-whitespace", body: strings.Replace(newBondJSON, `"HNEW"`, `" HNEW"`, 1), status: unprocessable,
			problems: []Problem{p("value_error.str.whitespace", "body", "host_account_id")}},
		{name: "create-422-id-too-long", body: strings.Replace(newBondJSON, `"SNEW"`, `"`+strings.Repeat("S", bond.MaxIDLen+1)+`"`, 1), status: unprocessable,
			problems: []Problem{p("value_error.any_str.max_length", "body", "sub_account_id")}},
		{name: "create-422-id-control-char", body: strings.Replace(newBondJSON, `"teal"`, `"te\u0007al"`, 1), status: unprocessable,
			problems: []Problem{p("value_error.str.control_characters", "body", "host_cost_center")}},
		{name: "create-422-every-problem", body: createBody("", `{"bob": {"sid": "bobby", "name": "", "email": "nope"}}`), status: unprocessable,
			problems: []Problem{p("value_error.any_str.min_length", "body", "bond_id"),
				p("value_error.any_str.min_length", "body", "subscribers", "bob", "name"),
				p("value_error.email", "body", "subscribers", "bob", "email"),
				p("value_error.sid_mismatch", "body", "subscribers", "bob", "sid")}},

		{name: "create-413", body: createBody("NEW", `{"x": "`+strings.Repeat("x", httpapi.MaxBodyBytes)+`"}`),
			status: http.StatusRequestEntityTooLarge, detail: "Request body too large (limit 1 MiB)."},
		{name: "create-415-text-plain", body: newBondJSON, header: Header{"Content-Type": "text/plain"},
			status: http.StatusUnsupportedMediaType},
		{name: "create-415-form", body: "bond_id=NEW", header: Header{"Content-Type": "application/x-www-form-urlencoded"},
			status: http.StatusUnsupportedMediaType},
		{name: "create-415-no-content-type", body: newBondJSON, header: Header{"Content-Type": ""},
			status: http.StatusUnsupportedMediaType},
		{name: "create-415-bad-content-type", body: newBondJSON, header: Header{"Content-Type": "application/json; ;;"},
			status: http.StatusUnsupportedMediaType},
	}
	for i := range cases {
		cases[i] = post(cases[i])
	}
	return cases
}
