package apitest

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bondregistry/bond-registry/internal/bond"
	"github.com/bondregistry/bond-registry/internal/httpapi"
)

const bobJSON = `{"sid": "bob", "name": "Bob Smith", "email": "bob@example.com"}`

func subscriberAddCases() []testCase {
	const unprocessable = http.StatusUnprocessableEntity
	add := func(tc testCase) testCase {
		tc.method = http.MethodPost
		if tc.path == "" {
			tc.path = "/bonds/B1/subscribers"
		}
		if tc.seed == nil {
			tc.seed = []bond.Bond{b1()}
		}
		return tc
	}
	bob := bond.Subscriber{SID: "bob", Name: "Bob Smith", Email: "bob@example.com"}
	withBob := with(b1(), func(b *bond.Bond) { b.Subscribers["bob"] = bob; b.Version = 2 })
	stored := func(want bond.Bond) func(t *testing.T, c *Client, res Response) {
		return func(t *testing.T, c *Client, res Response) {
			t.Helper()
			wantBond(want)(t, c, res)
			assert.Equal(t, want, getBond(t, c, "/bonds/"+url.PathEscape(want.BondID)), "stored")
		}
	}
	cases := []testCase{
		{name: "subscriber-add-200", body: bobJSON, status: http.StatusOK, check: stored(withBob)},
		{name: "subscriber-add-200-trailing-slash", path: "/bonds/B1/subscribers/", body: bobJSON, status: http.StatusOK, check: stored(withBob)},
		{name: "subscriber-add-200-replace", body: `{"sid": "rharper", "name": "Rich Harper", "email": "rich@example.com"}`,
			status: http.StatusOK, check: stored(with(b1(), func(b *bond.Bond) {
				b.Subscribers["rharper"] = bond.Subscriber{SID: "rharper", Name: "Rich Harper", Email: "rich@example.com"}
				b.Version = 2
			}))},
		{name: "subscriber-add-200-if-match", body: bobJSON, header: Header{"If-Match": `"1"`}, status: http.StatusOK, check: stored(withBob)},
		{name: "subscriber-add-200-if-match-star", body: bobJSON, header: Header{"If-Match": `*`}, status: http.StatusOK, check: stored(withBob)},
		{name: "subscriber-add-404", path: "/bonds/NOPE/subscribers", body: bobJSON, status: http.StatusNotFound,
			detail: "Bond NOPE not found. Cannot add subscriber bob."},
		{name: "subscriber-add-412-stale", body: bobJSON, header: Header{"If-Match": `"3"`}, status: http.StatusPreconditionFailed, check: stillB1},
		{name: "subscriber-add-412-missing-with-if-match", path: "/bonds/NOPE/subscribers", body: bobJSON,
			header: Header{"If-Match": `"1"`}, status: http.StatusPreconditionFailed},
		{name: "subscriber-add-422-bad-email", body: `{"sid": "bob", "name": "Bob", "email": "bob@@example.com"}`, status: unprocessable,
			problems: []Problem{p("value_error.email", "body", "email")}, check: stillB1},
		{name: "subscriber-add-422-email-with-name", body: `{"sid": "bob", "name": "Bob", "email": "Bob <bob@example.com>"}`, status: unprocessable,
			problems: []Problem{p("value_error.email", "body", "email")}},
		{name: "subscriber-add-422-missing-field", body: `{"sid": "bob", "name": "Bob"}`, status: unprocessable,
			problems: []Problem{p("value_error.missing", "body", "email")}},
		{name: "subscriber-add-422-type", body: `{"sid": 1, "name": ["Bob"], "email": null}`, status: unprocessable,
			problems: []Problem{p("type_error.str", "body", "sid"), p("type_error.str", "body", "name"), p("type_error.none.not_allowed", "body", "email")}},
		{name: "subscriber-add-422-extra-field", body: `{"sid": "bob", "name": "Bob", "email": "bob@example.com", "phone": "1"}`, status: unprocessable,
			problems: []Problem{p("value_error.extra", "body", "phone")}},
		{name: "subscriber-add-422-name-too-long", body: fmt.Sprintf(`{"sid": "bob", "name": %q, "email": "bob@example.com"}`, strings.Repeat("n", bond.MaxNameLen+1)), status: unprocessable,
			problems: []Problem{p("value_error.any_str.max_length", "body", "name")}},
		{name: "subscriber-add-422-malformed-json", body: `{"sid": "bob"`, status: unprocessable,
			problems: []Problem{p("value_error.jsondecode", "body")}},
		{name: "subscriber-add-422-not-object", body: `"bob"`, status: unprocessable,
			problems: []Problem{p("type_error.dict", "body")}},
		{name: "subscriber-add-422-too-many", before: func(t *testing.T, c *Client) {
			res := c.Do(t, http.MethodPut, "/bonds/B1", `{"subscribers": `+subscribersJSON(bond.MaxSubscribers, 3)+`}`, nil)
			require.Equal(t, http.StatusOK, res.Status, "fill B1: %s", res.Body)
		},
			body: bobJSON, status: unprocessable, problems: []Problem{p("value_error.subscribers.max_items", "body")}, check: func(t *testing.T, c *Client, _ Response) {
				assert.Len(t, getBond(t, c, "/bonds/B1").Subscribers, bond.MaxSubscribers, "bob not added")
			}},
		{name: "subscriber-add-422-path-and-body", path: "/bonds/%20B1/subscribers", body: `{"sid": "bob", "name": "Bob"}`, status: unprocessable,
			problems: []Problem{p("value_error.str.whitespace", "path", "bond_id"), p("value_error.missing", "body", "email")}},
		{name: "subscriber-add-415", body: bobJSON, header: Header{"Content-Type": "application/xml"}, status: http.StatusUnsupportedMediaType, check: stillB1},
		{name: "subscriber-add-413", body: fmt.Sprintf(`{"sid": "bob", "name": %q, "email": "bob@example.com"}`, strings.Repeat("n", httpapi.MaxBodyBytes)),
			status: http.StatusRequestEntityTooLarge, detail: "Request body too large (limit 1 MiB).", check: stillB1},
	}
	for i := range cases {
		cases[i] = add(cases[i])
	}
	return cases
}

func subscriberRemoveCases() []testCase {
	del := func(tc testCase) testCase {
		tc.method = http.MethodDelete
		if tc.path == "" {
			tc.path = "/bonds/B1/subscribers/rharper"
		}
		if tc.seed == nil {
			tc.seed = []bond.Bond{b1()}
		}
		return tc
	}
	removed := with(b1(), func(b *bond.Bond) { delete(b.Subscribers, "rharper"); b.Version = 2 })
	unchanged := with(b1(), func(b *bond.Bond) { b.Version = 1 })
	slashy := with(b1(), func(b *bond.Bond) {
		b.Subscribers["a/b c"] = bond.Subscriber{SID: "a/b c", Name: "Slash Space", Email: "ss@example.com"}
	})
	stored := func(want bond.Bond) func(t *testing.T, c *Client, res Response) {
		return func(t *testing.T, c *Client, res Response) {
			t.Helper()
			wantBond(want)(t, c, res)
			assert.Equal(t, want, getBond(t, c, "/bonds/B1"), "stored")
		}
	}
	cases := []testCase{
		{name: "subscriber-remove-200", status: http.StatusOK, check: stored(removed)},
		{name: "subscriber-remove-200-absent", path: "/bonds/B1/subscribers/nobody", status: http.StatusOK, check: stored(unchanged)},
		{name: "subscriber-remove-200-escaped-sid", seed: []bond.Bond{slashy}, path: "/bonds/B1/subscribers/a%2Fb%20c",
			status: http.StatusOK, check: stored(with(b1(), func(b *bond.Bond) { b.Version = 2 }))},
		{name: "subscriber-remove-200-if-match", header: Header{"If-Match": `"1"`}, status: http.StatusOK, check: stored(removed)},
		{name: "subscriber-remove-404", path: "/bonds/NOPE/subscribers/rharper", status: http.StatusNotFound,
			detail: "Bond NOPE not found. Cannot remove subscriber rharper."},
		{name: "subscriber-remove-412-stale", header: Header{"If-Match": `"0"`}, status: http.StatusPreconditionFailed, check: stillB1},
		{name: "subscriber-remove-412-missing-with-if-match-star", path: "/bonds/NOPE/subscribers/rharper",
			header: Header{"If-Match": `*`}, status: http.StatusPreconditionFailed},
		{name: "subscriber-remove-422-path", path: "/bonds/B1/subscribers/%20rharper", status: http.StatusUnprocessableEntity,
			problems: []Problem{p("value_error.str.whitespace", "path", "sid")}, check: stillB1},
	}
	for i := range cases {
		cases[i] = del(cases[i])
	}
	return cases
}

// testConcurrentAdds sends 100 subscriber adds to one bond at once, through
// HTTP, and checks that all 100 are there: the add is atomic on the store.
func (s suite) testConcurrentAdds(t *testing.T) {
	t.Parallel()
	repo, c := s.env(t)
	_, err := bond.Create(t.Context(), repo, b2())
	require.NoError(t, err)
	const n = 100
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Go(func() {
			sid := fmt.Sprintf("sub%03d", i)
			res, err := c.Send(t, http.MethodPost, "/bonds/B2/subscribers",
				fmt.Sprintf(`{"sid": %q, "name": "Name %d", "email": "%s@example.com"}`, sid, i, sid), nil)
			if err == nil && res.Status != http.StatusOK {
				err = fmt.Errorf("add %s: status %d: %s", sid, res.Status, res.Body)
			}
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	b := getBond(t, c, "/bonds/B2")
	assert.Len(t, b.Subscribers, n, "every concurrent add is kept")
	assert.Equal(t, int64(n+1), b.Version, "one version per add")
}
