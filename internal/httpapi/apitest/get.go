package apitest

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bondregistry/bond-registry/internal/bond"
)

// oddID is a bond id that needs escaping: spaces, unicode and a '%'.
const oddID = "my bond ü 50%"

func healthCases() []testCase {
	body := func(want string) func(t *testing.T, c *Client, res Response) {
		return func(t *testing.T, _ *Client, res Response) {
			assert.Equal(t, "application/json", res.Header.Get("Content-Type"))
			assert.JSONEq(t, want, string(res.Body))
		}
	}
	return []testCase{
		{name: "health_check-200", path: "/health_check", status: http.StatusOK, check: body(`"OK"`)},
		{name: "healthz-200", path: "/healthz", status: http.StatusOK, check: body(`{"status":"ok"}`)},
		{name: "readyz-200", path: "/readyz", status: http.StatusOK, check: body(`{"status":"ready"}`)},
	}
}

func getCases() []testCase {
	v1 := func(b bond.Bond) bond.Bond { b.Version = 1; return b }
	odd := withID(b1(), oddID)
	notModified := func(t *testing.T, _ *Client, res Response) {
		assert.Empty(t, res.Body, "304 has no body")
		assert.Equal(t, `"1"`, res.Header.Get("ETag"), "304 carries the ETag")
	}
	return []testCase{
		{name: "get-200", seed: []bond.Bond{b1()}, path: "/bonds/B1", status: http.StatusOK,
			check: wantBond(v1(b1()))},
		{name: "get-200-no-subscribers", seed: []bond.Bond{b2()}, path: "/bonds/B2", status: http.StatusOK,
			check: func(t *testing.T, c *Client, res Response) {
				wantBond(v1(b2()))(t, c, res)
				assert.Contains(t, string(res.Body), `"subscribers":{}`)
			}},
		{name: "get-200-escaped-id", seed: []bond.Bond{odd}, path: "/bonds/" + url.PathEscape(oddID),
			status: http.StatusOK, check: wantBond(v1(odd))},
		{name: "get-200-escaped-id-lowercase-hex", seed: []bond.Bond{odd}, path: "/bonds/my%20bond%20%c3%bc%2050%25",
			status: http.StatusOK, check: wantBond(v1(odd))},
		{name: "get-404", seed: []bond.Bond{b1()}, path: "/bonds/NOPE", status: http.StatusNotFound,
			detail: "Bond NOPE not found."},
		{name: "get-422-path-slash", seed: []bond.Bond{b1()}, path: "/bonds/B1%2Fx", status: http.StatusUnprocessableEntity,
			problems: []Problem{p("value_error.str.slash", "path", "bond_id")}},
		{name: "get-304-if-none-match", seed: []bond.Bond{b1()}, path: "/bonds/B1",
			header: Header{"If-None-Match": `"1"`}, status: http.StatusNotModified, check: notModified},
		{name: "get-304-if-none-match-star", seed: []bond.Bond{b1()}, path: "/bonds/B1",
			header: Header{"If-None-Match": `*`}, status: http.StatusNotModified, check: notModified},
		{name: "get-304-if-none-match-weak", seed: []bond.Bond{b1()}, path: "/bonds/B1",
			header: Header{"If-None-Match": `W/"1"`}, status: http.StatusNotModified, check: notModified},
		{name: "get-304-if-none-match-list", seed: []bond.Bond{b1()}, path: "/bonds/B1",
			header: Header{"If-None-Match": `"7", W/"1"`}, status: http.StatusNotModified, check: notModified},
		{name: "get-200-if-none-match-stale", seed: []bond.Bond{b1()}, path: "/bonds/B1",
			header: Header{"If-None-Match": `"2"`}, status: http.StatusOK, check: wantBond(v1(b1()))},
		{name: "get-404-if-none-match-missing", path: "/bonds/NOPE",
			header: Header{"If-None-Match": `*`}, status: http.StatusNotFound, detail: "Bond NOPE not found."},
		{name: "get-422-path-whitespace", path: "/bonds/%20B1", status: http.StatusUnprocessableEntity,
			problems: []Problem{p("value_error.str.whitespace", "path", "bond_id")}},
		{name: "get-422-path-control-char", path: "/bonds/B%011", status: http.StatusUnprocessableEntity,
			problems: []Problem{p("value_error.str.control_characters", "path", "bond_id")}},
		{name: "get-422-path-too-long", path: "/bonds/" + strings.Repeat("x", bond.MaxIDLen+1), status: http.StatusUnprocessableEntity,
			problems: []Problem{p("value_error.any_str.max_length", "path", "bond_id")}},
	}
}

func subscriberGetCases() []testCase {
	slashy := with(b1(), func(b *bond.Bond) {
		b.Subscribers["a/b c"] = bond.Subscriber{SID: "a/b c", Name: "Slash Space", Email: "ss@example.com"}
	})
	subs := func(want map[string]bond.Subscriber) func(t *testing.T, c *Client, res Response) {
		return func(t *testing.T, _ *Client, res Response) {
			assert.Equal(t, `"1"`, res.Header.Get("ETag"), "the bond's ETag")
			var got map[string]bond.Subscriber
			require.NoError(t, json.Unmarshal(res.Body, &got), "body: %s", res.Body)
			assert.Equal(t, want, got)
		}
	}
	sub := func(want bond.Subscriber) func(t *testing.T, c *Client, res Response) {
		return func(t *testing.T, _ *Client, res Response) {
			var got bond.Subscriber
			require.NoError(t, json.Unmarshal(res.Body, &got), "body: %s", res.Body)
			assert.Equal(t, want, got)
		}
	}
	return []testCase{
		{name: "subscribers-200", seed: []bond.Bond{b1()}, path: "/bonds/B1/subscribers",
			status: http.StatusOK, check: subs(b1().Subscribers)},
		{name: "subscribers-200-trailing-slash", seed: []bond.Bond{b1()}, path: "/bonds/B1/subscribers/",
			status: http.StatusOK, check: subs(b1().Subscribers)},
		{name: "subscribers-200-empty", seed: []bond.Bond{b2()}, path: "/bonds/B2/subscribers",
			status: http.StatusOK, check: subs(map[string]bond.Subscriber{})},
		{name: "subscribers-404", path: "/bonds/NOPE/subscribers", status: http.StatusNotFound,
			detail: "Bond NOPE not found."},
		{name: "subscriber-200", seed: []bond.Bond{b1()}, path: "/bonds/B1/subscribers/rharper",
			status: http.StatusOK, check: sub(b1().Subscribers["rharper"])},
		{name: "subscriber-200-escaped-sid", seed: []bond.Bond{slashy}, path: "/bonds/B1/subscribers/" + url.PathEscape("a/b c"),
			status: http.StatusOK, check: sub(slashy.Subscribers["a/b c"])},
		{name: "subscriber-404-sid", seed: []bond.Bond{b1()}, path: "/bonds/B1/subscribers/nobody",
			status: http.StatusNotFound, detail: "Subscriber nobody not found in bond B1."},
		{name: "subscriber-404-bond", path: "/bonds/NOPE/subscribers/rharper",
			status: http.StatusNotFound, detail: "Bond NOPE not found."},
		{name: "subscriber-422-path", path: "/bonds/%20B1/subscribers/%20x", status: http.StatusUnprocessableEntity,
			problems: []Problem{p("value_error.str.whitespace", "path", "bond_id"), p("value_error.str.whitespace", "path", "sid")}},
	}
}
