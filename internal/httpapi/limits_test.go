package httpapi_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"runtime"
	"strings"
	"testing"

	"github.com/rs/zerolog"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bondregistry/bond-registry/internal/boltstore"
	"github.com/bondregistry/bond-registry/internal/bond"
	"github.com/bondregistry/bond-registry/internal/httpapi"
	"github.com/bondregistry/bond-registry/internal/httpapi/apitest"
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

// A 39,750-byte POST /bonds (one subscriber key of 32,000
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
	require.Len(t, ps, 1, "an object of 1,000 members is refused whole")
	assert.Equal(t, "value_error.too_many_members", ps[0].Type)
	assert.Equal(t, []string{"body", "subscribers", key[:httpapi.MaxEchoBytes] + httpapi.TruncatedMarker}, ps[0].Loc)

	// Past MaxProblems the list stops and says how many were left out.
	var subs []string
	for i := range 150 {
		subs = append(subs, fmt.Sprintf(`"s%03d":{"sid":"s%03d","name":"N","email":"not-an-email"}`, i, i))
	}
	body = `{"bond_id":"B1","host_account_id":"H","sub_account_id":"S","host_cost_center":"c","sub_cost_center":"d",` +
		`"subscribers":{` + strings.Join(subs, ",") + `}}`
	res = c.Do(t, http.MethodPost, "/bonds", body, nil)
	require.Equal(t, http.StatusUnprocessableEntity, res.Status)
	ps = problems(t, res.Body)
	require.Len(t, ps, httpapi.MaxProblems+1)
	last := ps[len(ps)-1]
	assert.Equal(t, httpapi.ProblemsOmittedType, last.Type)
	assert.Contains(t, last.Msg, "50 more problems left out")
}

// A body of a hundred thousand unknown fields costs no more to refuse than
// a small one: the decoder counts an object's members before it decodes
// them (the hostile corpus measured 74 MB allocated for one 1 MiB body, and
// 187 MB of RSS after four at once).
func TestDecode_HostileBodyIsCheap(t *testing.T) {
	var b strings.Builder
	b.WriteString(`{"bond_id":"A"`)
	for i := 0; b.Len() < httpapi.MaxBodyBytes-20; i++ {
		fmt.Fprintf(&b, `,"f%d":1`, i)
	}
	b.WriteString("}")
	c := newClient(t, httpapi.NewServer(zerolog.Nop(), newBoltRepo(t), httpapi.Config{}))
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	res := c.Do(t, http.MethodPost, "/bonds", b.String(), nil)
	runtime.ReadMemStats(&after)
	require.Equal(t, http.StatusUnprocessableEntity, res.Status)
	allocated := after.TotalAlloc - before.TotalAlloc
	t.Logf("a %d-byte body of unknown fields allocated %d bytes", b.Len(), allocated)
	assert.Less(t, allocated, uint64(8*httpapi.MaxBodyBytes), "at most a few times the body")
}

// The hostile corpus found it: a \u escape of a lone UTF-16 surrogate
// ("\ud800") was stored as U+FFFD, the same silent change as invalid UTF-8
// (encoding/json replaces it). A pair, and an escaped backslash before "u",
// are left alone.
func TestServer_LoneSurrogateEscapeIs422(t *testing.T) {
	c := newClient(t, httpapi.NewServer(zerolog.Nop(), newBoltRepo(t), httpapi.Config{}))
	create := `{"bond_id":"B1","host_account_id":"H","sub_account_id":"S","host_cost_center":"c","sub_cost_center":"d"}`
	require.Equal(t, http.StatusCreated, c.Do(t, http.MethodPost, "/bonds", create, nil).Status)
	for _, body := range []string{
		`{"sid":"u1","name":"a\ud800b","email":"u1@example.com"}`,     // high alone
		`{"sid":"u1","name":"a\uDC00","email":"u1@example.com"}`,      // low alone
		`{"sid":"u1","name":"\ud800\u0041","email":"u1@example.com"}`, // high, then no low
		`{"sid":"u1","name":"\udc00\ud800","email":"u1@example.com"}`, // a pair in the wrong order
		`{"sid":"u1","name":"n","email":"u1@example.com","\ud83d":1}`, // in a member name
		`{"sid":"u1","name":"x\\\ud800","email":"u1@example.com"}`,    // after an escaped backslash
	} {
		res := c.Do(t, http.MethodPost, "/bonds/B1/subscribers", body, nil)
		require.Equal(t, http.StatusUnprocessableEntity, res.Status, "%s: %s", body, res.Body)
		ps := problems(t, res.Body)
		require.Len(t, ps, 1, "%s", res.Body)
		assert.Equal(t, "value_error.jsondecode", ps[0].Type)
		assert.Contains(t, ps[0].Msg, "surrogate")
	}
	assert.Equal(t, http.StatusNotFound, c.Do(t, http.MethodGet, "/bonds/B1/subscribers/u1", "", nil).Status, "nothing was stored")

	for sid, body := range map[string]string{
		"u2": `{"sid":"u2","name":"clef \ud834\udd1e","email":"u2@example.com"}`, // a pair: U+1D11E
		"u3": `{"sid":"u3","name":"\\ud800","email":"u3@example.com"}`,           // a backslash, then "ud800"
	} {
		res := c.Do(t, http.MethodPost, "/bonds/B1/subscribers", body, nil)
		require.Equal(t, http.StatusOK, res.Status, "%s: %s", body, res.Body)
		res = c.Do(t, http.MethodGet, "/bonds/B1/subscribers/"+sid, "", nil)
		require.Equal(t, http.StatusOK, res.Status)
		var s bond.Subscriber
		require.NoError(t, json.Unmarshal(res.Body, &s))
		assert.NotContains(t, s.Name, "\uFFFD", sid)
		assert.Contains(t, []string{"clef \U0001D11E", `\ud800`}, s.Name, sid)
	}
}

// Invalid UTF-8 in a body was stored with U+FFFD in place of each
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

// Every API route refuses a query parameter it does not take (the attacker
// found PUT /bonds/FOO?dry_run=1 a 200 that wrote): a 422 naming it, and
// nothing written.
func TestQuery_UnknownParametersEverywhere(t *testing.T) {
	repo := newBoltRepo(t)
	c := newClient(t, httpapi.NewServer(zerolog.Nop(), repo, httpapi.Config{}))
	body := `{"bond_id":"Q1","host_account_id":"H","sub_account_id":"S","host_cost_center":"c","sub_cost_center":"d"}`
	require.Equal(t, http.StatusCreated, c.Do(t, http.MethodPost, "/bonds", body, nil).Status)
	for _, tc := range []struct{ method, path, body string }{
		{http.MethodPost, "/bonds?dry_run=1", `{"bond_id":"Q2","host_account_id":"H2","sub_account_id":"S","host_cost_center":"c","sub_cost_center":"d"}`},
		{http.MethodGet, "/bonds/Q1?x", ""},
		{http.MethodPut, "/bonds/Q1?dry_run=1", `{"sub_cost_center":"e"}`},
		{http.MethodDelete, "/bonds/Q1?soft=true", ""},
		{http.MethodGet, "/bonds/Q1/subscribers?zz=1", ""},
		{http.MethodPost, "/bonds/Q1/subscribers?x=1", `{"sid":"a","name":"A","email":"a@example.com"}`},
		{http.MethodGet, "/bonds/Q1/subscribers/a?x=1", ""},
		{http.MethodDelete, "/bonds/Q1/subscribers/a?x=1", ""},
		{http.MethodGet, "/bonds/Q1/revisions?limt=1", ""},
		{http.MethodGet, "/bonds/Q1/revisions/1?x=1", ""},
		{http.MethodPost, "/bonds/Q1/revisions/1/restore?x=1", ""},
	} {
		res := c.Do(t, tc.method, tc.path, tc.body, nil)
		require.Equal(t, http.StatusUnprocessableEntity, res.Status, "%s %s: %s", tc.method, tc.path, res.Body)
		assert.Contains(t, string(res.Body), `"type":"value_error.extra"`, "%s %s", tc.method, tc.path)
	}
	res := c.Do(t, http.MethodGet, "/bonds/Q1", "", nil)
	assert.Equal(t, `"1"`, res.Header.Get("ETag"), "nothing was written")
}

// A restore takes no body: it must be empty or {} (else 422), with or
// without an Idempotency-Key
// (the attacker's review found a 3 MB text/plain body accepted without a
// key); and a trailing slash is the same route for a key's fingerprint.
func TestRestore_NoBody(t *testing.T) {
	repo := newBoltRepo(t).(*boltstore.Store)
	c := newClient(t, httpapi.NewServer(zerolog.Nop(), repo, httpapi.Config{Idempotency: repo.Idempotency()}))
	body := `{"bond_id":"RB","host_account_id":"H","sub_account_id":"S","host_cost_center":"c","sub_cost_center":"d"}`
	require.Equal(t, http.StatusCreated, c.Do(t, http.MethodPost, "/bonds", body, nil).Status)
	for _, key := range []string{"", `"k-restore"`} {
		h := apitest.Header{}
		if key != "" {
			h["Idempotency-Key"] = key
		}
		text := apitest.Header{"Content-Type": "text/plain"}
		for k, v := range h {
			text[k] = v
		}
		if key == "" { // with a key, the key's own reading of the body answers first (415)
			assert.Equal(t, http.StatusUnprocessableEntity, c.Do(t, http.MethodPost, "/bonds/RB/revisions/1/restore", "x", text).Status)
		}
		assert.Equal(t, http.StatusUnprocessableEntity, c.Do(t, http.MethodPost, "/bonds/RB/revisions/1/restore", body, h).Status, "key %q", key)
	}
	assert.Equal(t, http.StatusOK, c.Do(t, http.MethodPost, "/bonds/RB/revisions/1/restore", "", nil).Status)
	assert.Equal(t, http.StatusOK, c.Do(t, http.MethodPost, "/bonds/RB/revisions/1/restore", "{}", nil).Status)

	k := apitest.Header{"Idempotency-Key": `"k-slash"`}
	first := c.Do(t, http.MethodPost, "/bonds", strings.NewReplacer(`"RB"`, `"RS"`, `"H"`, `"H2"`).Replace(body), k)
	require.Equal(t, http.StatusCreated, first.Status)
	again := c.Do(t, http.MethodPost, "/bonds/", strings.NewReplacer(`"RB"`, `"RS"`, `"H"`, `"H2"`).Replace(body), k)
	require.Equal(t, http.StatusCreated, again.Status, "the same route: replayed, %s %v", again.Body, again.Header)
	assert.Equal(t, "true", again.Header.Get("Idempotent-Replayed"))
}
