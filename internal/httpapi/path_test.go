package httpapi_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/rs/zerolog"
	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"

	"github.com/bondregistry/bond-registry/internal/httpapi"
)

// A path whose unreserved characters are percent-encoded is the same path
// (RFC 3986 section 6.2.2.2): every spelling of a route answers as the plain
// one, where an encoded literal segment (/bo%6Eds) was a 404. Other escapes
// stay: a %2F in a bond id is still a 422.
func TestPath_UnreservedEscapesAreTheSamePath(t *testing.T) {
	c := newClient(t, httpapi.NewServer(zerolog.Nop(), newBoltRepo(t), httpapi.Config{}))
	require.Equal(t, http.StatusCreated, c.Do(t, http.MethodPost, "/bonds", `{"bond_id": "W1", "host_account_id": "H",
		"sub_account_id": "S", "host_cost_center": "teal", "sub_cost_center": "yellow",
		"subscribers": {"s-1": {"sid": "s-1", "name": "Ann", "email": "ann@example.com"}}}`, nil).Status)
	paths := []string{"/bonds/W1", "/bonds/W1/subscribers", "/bonds/W1/subscribers/s-1", "/bonds/W1/revisions/1", "/bonds/NONE"}
	want := map[string]string{}
	for _, p := range paths {
		res := c.Do(t, http.MethodGet, p, "", nil)
		want[p] = fmt.Sprintf("%d %s", res.Status, res.Body)
	}
	rapid.Check(t, func(rt *rapid.T) {
		p := rapid.SampledFrom(paths).Draw(rt, "path")
		var spelled strings.Builder
		for _, ch := range []byte(p) {
			switch {
			case ch == '/' || !rapid.Bool().Draw(rt, "encode"):
				spelled.WriteByte(ch)
			case rapid.Bool().Draw(rt, "lower hex"):
				fmt.Fprintf(&spelled, "%%%02x", ch)
			default:
				fmt.Fprintf(&spelled, "%%%02X", ch)
			}
		}
		res := c.Do(t, http.MethodGet, spelled.String(), "", nil)
		if got := fmt.Sprintf("%d %s", res.Status, res.Body); got != want[p] {
			rt.Fatalf("GET %s: %s, want (as %s) %s", spelled.String(), got, p, want[p])
		}
	})
	require.Equal(t, http.StatusUnprocessableEntity, c.Do(t, http.MethodGet, "/bonds/W%2F1", "", nil).Status, "a %2F is kept: not an id")
}
