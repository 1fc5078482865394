package bond_test

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bondregistry/bond-registry/internal/bond"
)

// stdJSON is what encoding/json writes for v, with HTML escaping off and
// without the Encoder's trailing newline: the reference for AppendJSON.
func stdJSON(t testing.TB, v any) []byte {
	t.Helper()
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	require.NoError(t, enc.Encode(v))
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
}

var awkwardStrings = []string{
	"", "plain", `quote " and \ backslash`, "tab\tnew\nline\rret", "\b\f\x00\x01\x1f\x7f",
	"<html> & 'amp'", "ünïcödé 😀", "\u2028\u2029", "bad utf8 \xff\xfe end", "\xc3", "é\xe2\x82",
}

func TestAppendJSON_MatchesEncodingJSON(t *testing.T) {
	for _, s := range awkwardStrings {
		b := bond.Bond{BondID: s, HostAccountID: s + "h", SubAccountID: "s" + s, HostCostCenter: s, SubCostCenter: s,
			Subscribers: map[string]bond.Subscriber{s: {SID: s, Name: s, Email: s}, "b" + s: {SID: "x", Name: "y", Email: "z"}, "a": {}}}
		assert.Equal(t, string(stdJSON(t, b)), string(b.AppendJSON(nil)), "%q", s)
	}
}

func TestAppendJSON_NilSubscribersIsEmptyObject(t *testing.T) {
	got := bond.Bond{BondID: "X"}.AppendJSON(nil)
	assert.JSONEq(t, `{"bond_id":"X","host_account_id":"","sub_account_id":"","host_cost_center":"","sub_cost_center":"","subscribers":{}}`, string(got))
}

func FuzzAppendJSON(f *testing.F) {
	for _, s := range awkwardStrings {
		f.Add(s, s+"x")
	}
	f.Fuzz(func(t *testing.T, a, b string) {
		subs := map[string]bond.Subscriber{a: {SID: a, Name: b, Email: a + b}, b: {SID: b, Name: a, Email: b}}
		v := bond.Bond{BondID: a, HostAccountID: b, SubAccountID: a, HostCostCenter: b, SubCostCenter: a, Subscribers: subs}
		if got, want := v.AppendJSON(nil), stdJSON(t, v); !bytes.Equal(got, want) {
			t.Fatalf("AppendJSON = %s\nencoding/json = %s", got, want)
		}
		if got, want := bond.AppendSubscribersJSON(nil, subs), stdJSON(t, subs); !bytes.Equal(got, want) {
			t.Fatalf("AppendSubscribersJSON = %s\nencoding/json = %s", got, want)
		}
	})
}
