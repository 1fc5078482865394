package httpapi_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"

	"github.com/rs/zerolog"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"

	"github.com/bondregistry/bond-registry/internal/httpapi"
	"github.com/bondregistry/bond-registry/internal/openapicheck"
)

func TestIsLoopbackHost(t *testing.T) {
	for _, host := range []string{
		"localhost", "LOCALHOST:5000", "LocalHost.", "localhost.:8080", "localhost:",
		"127.0.0.1", "127.0.0.1:5000", "127.255.255.254:1", "127.1.2.3:65535",
		"[::1]", "[::1]:5000", "[0:0:0:0:0:0:0:1]:80", "[::ffff:127.0.0.1]:80",
	} {
		assert.True(t, httpapi.IsLoopbackHost(host), "%q", host)
	}
	for _, host := range []string{
		"", ":5000", "rebind.attacker.example:5000", "localhost.attacker.example", "x.localhost",
		"localhost..", "localhost:80x", "localhost:80:80", "localhost :80", " localhost", "local%68ost",
		"127.0.0.1.attacker.example", "127.1", "0127.0.0.1", "2130706433", "0x7f000001", "128.0.0.1",
		"0.0.0.0", "10.0.0.1:5000", "[::]", "[::2]", "[::1", "::1", "[::1]x", "[::1]:x", "[::1%25lo]",
		"[fe80::1%25eth0]:80", "[127.0.0.1]", "[::ffff:10.0.0.1]",
	} {
		assert.False(t, httpapi.IsLoopbackHost(host), "%q", host)
	}
}

// loopbackHost draws a Host value that names the local machine: localhost
// in any case (and its absolute form), 127.0.0.0/8, or an IPv6 loopback
// form, with or without a port.
func loopbackHost(t *rapid.T) string {
	host := rapid.OneOf(
		rapid.Custom(func(t *rapid.T) string {
			var b strings.Builder
			for _, c := range "localhost" {
				if rapid.Bool().Draw(t, "upper") {
					c -= 'a' - 'A'
				}
				b.WriteRune(c)
			}
			if rapid.Bool().Draw(t, "dot") {
				b.WriteByte('.')
			}
			return b.String()
		}),
		rapid.Custom(func(t *rapid.T) string {
			return fmt.Sprintf("127.%d.%d.%d", rapid.IntRange(0, 255).Draw(t, "b"),
				rapid.IntRange(0, 255).Draw(t, "c"), rapid.IntRange(0, 255).Draw(t, "d"))
		}),
		rapid.SampledFrom([]string{"[::1]", "[0:0:0:0:0:0:0:1]", "[0::1]", "[::0:1]", "[::FFFF:127.0.0.1]", "[::ffff:7f00:1]"}),
	).Draw(t, "host")
	if rapid.Bool().Draw(t, "has port") {
		host += ":" + rapid.StringMatching(`[0-9]{0,6}`).Draw(t, "port")
	}
	return host
}

// looksLocal is an oracle of the accepted names other than bracketed IPv6:
// the drawn strings of the refused side that match it are skipped.
var looksLocal = regexp.MustCompile(`^(?i:localhost\.?|127\.(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])(\.(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])){2})(:[0-9]*)?$`)

// notLoopbackHost draws a Host value that does not name the local machine:
// another name or address, one that only starts or ends like a loopback
// one, or any string at all.
func notLoopbackHost(t *rapid.T) string {
	return rapid.OneOf(
		rapid.Custom(func(t *rapid.T) string { // around a loopback name
			return rapid.StringMatching(`[a-z0-9.-]{0,12}`).Draw(t, "before") + loopbackHost(t) +
				rapid.StringMatching(`[a-z0-9.-]{1,12}`).Draw(t, "after")
		}),
		rapid.Custom(func(t *rapid.T) string { // a prefix before it
			return rapid.StringMatching(`[a-z0-9-]{1,12}\.`).Draw(t, "label") + loopbackHost(t)
		}),
		rapid.Custom(func(t *rapid.T) string { // another IPv4 address
			a := rapid.IntRange(0, 255).Filter(func(a int) bool { return a != 127 }).Draw(t, "a")
			return fmt.Sprintf("%d.%d.%d.%d", a, rapid.IntRange(0, 255).Draw(t, "b"),
				rapid.IntRange(0, 255).Draw(t, "c"), rapid.IntRange(0, 255).Draw(t, "d"))
		}),
		rapid.StringMatching(`[a-z0-9-]{1,20}(\.[a-z0-9-]{1,20}){0,3}(:[0-9]{1,5})?`), // a DNS name
		rapid.String(), // anything
	).Filter(func(h string) bool { return h != "" && !looksLocal.MatchString(h) && !strings.HasPrefix(h, "[") }).Draw(t, "host")
}

// Generated Host values against the rule, through the whole server without
// keys: a loopback name or address is served, anything else is a JSON 421
// that changes nothing.
func TestServer_HostRule(t *testing.T) {
	h := httpapi.NewServer(zerolog.Nop(), newBoltRepo(t), httpapi.Config{})
	do := func(method, path, host, body string) *httptest.ResponseRecorder {
		req := httptest.NewRequest(method, "/", strings.NewReader(body))
		req.URL.Path, req.RequestURI, req.Host = path, path, host
		if body != "" {
			req.Header.Set("Content-Type", "application/json")
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec
	}
	t.Run("accepted", rapid.MakeCheck(func(t *rapid.T) {
		host := loopbackHost(t)
		require.True(t, httpapi.IsLoopbackHost(host), "%q", host)
		for _, path := range []string{"/healthz", "/bonds"} {
			rec := do(http.MethodGet, path, host, "")
			require.Equal(t, http.StatusOK, rec.Code, "Host %q: %s", host, rec.Body)
		}
	}))
	t.Run("refused", rapid.MakeCheck(func(t *rapid.T) {
		host := notLoopbackHost(t)
		require.False(t, httpapi.IsLoopbackHost(host), "%q", host)
		rec := do(http.MethodPost, "/bonds", host, `{"bond_id": "B1", "host_account_id": "H", "sub_account_id": "S", "host_cost_center": "c", "sub_cost_center": "d"}`)
		require.Equal(t, http.StatusMisdirectedRequest, rec.Code, "Host %q", host)
		var body struct{ Detail string }
		require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &body))
		require.Contains(t, body.Detail, "local callers only")
		require.Equal(t, http.StatusNotFound, do(http.MethodGet, "/bonds/B1", "localhost", "").Code, "nothing was created")
	}))
}

// DNS rebinding: a page whose name was rebound to 127.0.0.1 sends its own
// name as Host. GET /bonds and POST /bonds used to answer 200 and 201; now
// both are a 421 (as the document says), and nothing is created. With keys
// the rule is off: the key decides.
func TestServer_RebindingHostIs421(t *testing.T) {
	srv := httptest.NewServer(httpapi.NewServer(zerolog.Nop(), newBoltRepo(t), httpapi.Config{}))
	t.Cleanup(srv.Close)
	v := openapicheck.New(t)
	send := func(method, path, host, body string) (int, string) {
		res, data := sendChecked(t, srv, v, method, path, body, func(req *http.Request) { req.Host = host })
		assert.Equal(t, "application/json", res.Header.Get("Content-Type"))
		return res.StatusCode, string(data)
	}
	const attacker = "rebind.attacker.example:5000"
	create := `{"bond_id": "B1", "host_account_id": "H", "sub_account_id": "S", "host_cost_center": "c", "sub_cost_center": "d"}`
	status, body := send(http.MethodGet, "/bonds", attacker, "")
	assert.Equal(t, http.StatusMisdirectedRequest, status)
	assert.Contains(t, body, "local callers only")
	status, _ = send(http.MethodPost, "/bonds", attacker, create)
	assert.Equal(t, http.StatusMisdirectedRequest, status)
	status, _ = send(http.MethodGet, "/bonds/B1", "localhost:5000", "")
	assert.Equal(t, http.StatusNotFound, status, "the POST created nothing")
	status, _ = send(http.MethodPost, "/bonds", "127.0.0.1:5000", create)
	assert.Equal(t, http.StatusCreated, status)

	set, _, _, _ := testKeys(t)
	keyed := httptest.NewServer(httpapi.NewServer(zerolog.Nop(), newBoltRepo(t), httpapi.Config{APIKeys: set}))
	t.Cleanup(keyed.Close)
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, keyed.URL+"/bonds", nil)
	require.NoError(t, err)
	req.Host = attacker
	res, err := keyed.Client().Do(req)
	require.NoError(t, err)
	res.Body.Close()
	assert.Equal(t, http.StatusUnauthorized, res.StatusCode, "with keys, the key decides")
}

// sendChecked sends method path with body (as JSON when not empty) to srv,
// after edit changes the request in ways apitest.Header cannot (repeated
// lines, the Host), reads the answer, and holds it to the document with v.
func sendChecked(t *testing.T, srv *httptest.Server, v *openapicheck.Validator, method, path, body string, edit func(*http.Request)) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, srv.URL+path, strings.NewReader(body))
	require.NoError(t, err)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	edit(req)
	res, err := srv.Client().Do(req)
	require.NoError(t, err)
	defer res.Body.Close()
	data, err := io.ReadAll(res.Body)
	require.NoError(t, err)
	res.Body = io.NopCloser(bytes.NewReader(data))
	v.Check(t, req, res, data)
	return res, data
}
