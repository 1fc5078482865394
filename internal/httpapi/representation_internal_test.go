package httpapi

import (
	"bytes"
	"encoding/json"
	"testing"

	"pgregory.net/rapid"

	"github.com/bondregistry/bond-registry/internal/bond"
)

// anyString draws strings of every kind appendString must escape as
// encoding/json does: control characters, quotes, backslashes, HTML
// characters, U+2028/U+2029, invalid UTF-8, and plain text.
func anyString() *rapid.Generator[string] {
	return rapid.OneOf(
		rapid.String(),
		rapid.StringMatching(`[a-z0-9 .@_-]{0,20}`),
		rapid.Map(rapid.SliceOf(rapid.Byte()), func(b []byte) string { return string(b) }),
		rapid.Map(rapid.SliceOf(rapid.SampledFrom([]string{"\"", "\\", "\b", "\f", "\n", "\r", "\t", "\x00", "\x1f", "\x7f",
			"<", ">", "&", "\u2028", "\u2029", "\xff", "\xe2\x80", "é", "😀", "a"})), func(parts []string) string {
			var b bytes.Buffer
			for _, p := range parts {
				b.WriteString(p)
			}
			return b.String()
		}),
	)
}

// jsonOf is what encoding/json writes for v with newEncoder's settings.
func jsonOf(t *rapid.T, v any) []byte {
	var want bytes.Buffer
	if err := newEncoder(&want).Encode(v); err != nil {
		t.Fatal(err)
	}
	return want.Bytes()
}

// The hand-written representation is encoding/json's, byte for byte, for
// any bond (valid or not: it encodes what it is given).
func TestRepresentation(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		b := bond.Bond{
			BondID: anyString().Draw(t, "bond_id"), HostAccountID: anyString().Draw(t, "host"), SubAccountID: anyString().Draw(t, "sub"),
			HostCostCenter: anyString().Draw(t, "hcc"), SubCostCenter: anyString().Draw(t, "scc"),
			Version: rapid.Int64().Draw(t, "version"),
		}
		if rapid.Bool().Draw(t, "has subscribers") {
			b.Subscribers = map[string]bond.Subscriber{}
			for range rapid.IntRange(0, 12).Draw(t, "subscribers") {
				sid := anyString().Draw(t, "sid")
				b.Subscribers[sid] = bond.Subscriber{SID: anyString().Draw(t, "sid field"), Name: anyString().Draw(t, "name"), Email: anyString().Draw(t, "email")}
			}
		}
		want := jsonOf(t, shown(b))
		if got := appendRepresentation(nil, b); !bytes.Equal(got, want) {
			t.Fatalf("representation\n got %q\nwant %q", got, want)
		}
		var buf bytes.Buffer
		if err := WriteRepresentation(&buf, b); err != nil || !bytes.Equal(buf.Bytes(), want) {
			t.Fatalf("WriteRepresentation: %v\n got %q\nwant %q", err, buf.Bytes(), want)
		}
	})
}

// appendString is encoding/json's string encoding, for any bytes.
func TestAppendString(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		s := anyString().Draw(t, "s")
		want := bytes.TrimSuffix(jsonOf(t, s), []byte("\n"))
		if got := appendString(nil, s); !bytes.Equal(got, want) {
			t.Fatalf("appendString(%q)\n got %q\nwant %q", s, got, want)
		}
		if !json.Valid(appendString(nil, s)) {
			t.Fatalf("appendString(%q) is not JSON", s)
		}
	})
}
