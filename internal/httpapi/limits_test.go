package httpapi_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/rs/zerolog"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bondregistry/bond-registry/internal/bond"
	"github.com/bondregistry/bond-registry/internal/httpapi"
)

// problems decodes a 422 body.
func problems(t *testing.T, body []byte) []bond.Problem {
	t.Helper()
	var v struct {
		Detail []bond.Problem `json:"detail"`
	}
	require.NoError(t, json.Unmarshal(body, &v), "body: %.300s", body)
	return v.Detail
}

// Issue 10: a 39,750-byte POST /bonds (one subscriber key of 32,000
// characters holding 1,000 unknown fields) got a 32 MB 422, every problem's
// loc repeating the key. The 422 now lists at most MaxProblems problems, then
// says how many were left out, and cuts every echoed value.
func TestServer_422IsProportionalToTheRequest(t *testing.T) {
	c := newClient(t, httpapi.NewServer(zerolog.Nop(), newBoltRepo(t), httpapi.Config{}))
	key := strings.Repeat("k", 32000)
	var fields []string
	for i := range 1000 {
		fields = append(fields, fmt.Sprintf(`"f%d":1`, i))
	}
	body := `{"bond_id":"B1","host_account_id":"H","sub_account_id":"S","host_cost_center":"c","sub_cost_center":"d",` +
		`"subscribers":{"` + key + `":{` + strings.Join(fields, ",") + `}}}`
	res := c.Do(t, http.MethodPost, "/bonds", body, nil)
	require.Equal(t, http.StatusUnprocessableEntity, res.Status)
	t.Logf("request %d bytes, 422 %d bytes", len(body), len(res.Body))
	assert.Less(t, len(res.Body), 2*len(body), "the 422 stays proportional to the request")

	ps := problems(t, res.Body)
	require.Len(t, ps, httpapi.MaxProblems+1)
	last := ps[len(ps)-1]
	assert.Equal(t, httpapi.ProblemsOmittedType, last.Type)
	assert.Contains(t, last.Msg, "more problems left out")
	for _, p := range ps[:httpapi.MaxProblems] {
		for _, l := range p.Loc {
			assert.LessOrEqual(t, len(l), httpapi.MaxEchoBytes+len(httpapi.TruncatedMarker))
		}
		assert.Equal(t, []string{"body", "subscribers", key[:httpapi.MaxEchoBytes] + httpapi.TruncatedMarker}, p.Loc[:3])
	}
}

// Issue 10: invalid UTF-8 in a body was stored with U+FFFD in place of each
// bad byte; RFC 8259 section 8.1 says JSON text is UTF-8.
func TestServer_InvalidUTF8Is422(t *testing.T) {
	c := newClient(t, httpapi.NewServer(zerolog.Nop(), newBoltRepo(t), httpapi.Config{}))
	create := `{"bond_id":"B1","host_account_id":"H","sub_account_id":"S","host_cost_center":"c","sub_cost_center":"d"}`
	require.Equal(t, http.StatusCreated, c.Do(t, http.MethodPost, "/bonds", create, nil).Status)

	for _, tc := range []struct{ method, path, body string }{
		{http.MethodPost, "/bonds", "{\"bond_id\":\"B2\",\"host_account_id\":\"H\xe9\",\"sub_account_id\":\"S2\",\"host_cost_center\":\"c\",\"sub_cost_center\":\"d\"}"},
		{http.MethodPut, "/bonds/B1", "{\"host_cost_center\":\"Bad \xe9 cc\"}"},
		{http.MethodPost, "/bonds/B1/subscribers", "{\"sid\":\"u1\",\"name\":\"Bad \xe9 Name\",\"email\":\"u1@example.com\"}"}, // the case
		{http.MethodPost, "/bonds/B1/subscribers", "{\"sid\":\"u1\",\"name\":\"\xed\xa0\x80\",\"email\":\"u1@example.com\"}"},  // a UTF-16 surrogate
		{http.MethodPost, "/bonds/B1/subscribers", "{\"sid\":\"u1\",\"name\":\"\xc0\xaf\",\"email\":\"u1@example.com\"}"},      // overlong '/'
	} {
		res := c.Do(t, tc.method, tc.path, tc.body, nil)
		require.Equal(t, http.StatusUnprocessableEntity, res.Status, "%q: %s", tc.body, res.Body)
		ps := problems(t, res.Body)
		require.Len(t, ps, 1)
		assert.Equal(t, "value_error.jsondecode", ps[0].Type)
		assert.Equal(t, []string{"body"}, ps[0].Loc)
		assert.Contains(t, ps[0].Msg, "UTF-8")
	}
	assert.Equal(t, http.StatusNotFound, c.Do(t, http.MethodGet, "/bonds/B2", "", nil).Status)
	assert.Equal(t, http.StatusNotFound, c.Do(t, http.MethodGet, "/bonds/B1/subscribers/u1", "", nil).Status)
	res := c.Do(t, http.MethodGet, "/bonds/B1", "", nil)
	assert.Contains(t, string(res.Body), `"host_cost_center":"c"`)
}
