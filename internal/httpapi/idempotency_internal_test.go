package httpapi

import (
	"strings"
	"testing"
	"unicode"

	"github.com/stretchr/testify/assert"
	"pgregory.net/rapid"
)

func TestParseIdempotencyKey(t *testing.T) {
	for _, tc := range []struct {
		in, want string
		ok       bool
	}{
		{`"8e03978e-40d5-43e8-bc93-6894a57f9324"`, "8e03978e-40d5-43e8-bc93-6894a57f9324", true},
		{`8e03978e-40d5-43e8-bc93-6894a57f9324`, "8e03978e-40d5-43e8-bc93-6894a57f9324", true}, // a token, as Stripe's clients send
		{`"a \"quoted\" \\ key"`, `a "quoted" \ key`, true},
		{`"with space"`, "with space", true},
		{`key:with/colon`, "key:with/colon", true},
		{`"` + strings.Repeat("k", 255) + `"`, strings.Repeat("k", 255), true},
		{strings.Repeat("k", 255), strings.Repeat("k", 255), true},
		{``, "", false},
		{`""`, "", false},
		{`"` + strings.Repeat("k", 256) + `"`, "", false},
		{strings.Repeat("k", 256), "", false},
		{`"open`, "", false},
		{`"a"b`, "", false},
		{`"a";p=1`, "", false}, // parameters are not taken
		{`"a\n"`, "", false},   // \n is no sf-string escape
		{`"a\`, "", false},
		{`"é"`, "", false}, // sf-string is ASCII
		{"\"a\tb\"", "", false},
		{`a b`, "", false},
		{`a,b`, "", false},
		{`(a)`, "", false},
		{`:YWJj:`, "", false}, // an sf byte sequence, not a token
		{`/a`, "", false},
		{`*a`, "*a", true},
	} {
		got, ok := parseIdempotencyKey(tc.in)
		assert.Equal(t, tc.ok, ok, "%q", tc.in)
		assert.Equal(t, tc.want, got, "%q", tc.in)
	}
}

// TestParseIdempotencyKey_SFStringRoundTrip: every key of 1-255 printable
// ASCII characters, serialised as an sf-string (RFC 8941 §4.1.6), parses
// back to itself; and whatever parses is 1-255 printable ASCII characters.
func TestParseIdempotencyKey_SFStringRoundTrip(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		key := rapid.StringOfN(rapid.RuneFrom(nil, &rapidASCII), 1, 255, -1).Draw(t, "key")
		quoted := `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(key) + `"`
		got, ok := parseIdempotencyKey(quoted)
		if !ok || got != key {
			t.Fatalf("parse(%q) = %q, %v; want %q", quoted, got, ok, key)
		}
	})
	rapid.Check(t, func(t *rapid.T) {
		in := rapid.String().Draw(t, "header")
		got, ok := parseIdempotencyKey(in)
		if !ok {
			return
		}
		if len(got) == 0 || len(got) > 255 {
			t.Fatalf("parse(%q) = %q: length %d", in, got, len(got))
		}
		for i := 0; i < len(got); i++ {
			if got[i] < 0x20 || got[i] > 0x7e {
				t.Fatalf("parse(%q) = %q: byte %#x", in, got, got[i])
			}
		}
	})
}

// Structured Field items that are neither an sf-string nor a token (a byte
// sequence :base64:, a boolean ?1, a string with parameters) are never a
// key: the kind of `:YWJj:`, which was taken as a token.
func TestParseIdempotencyKey_OtherItemsRefused(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		b64 := rapid.StringMatching(`[A-Za-z0-9+/]{0,40}={0,2}`).Draw(t, "base64")
		for _, in := range []string{":" + b64 + ":", "?" + rapid.SampledFrom([]string{"0", "1"}).Draw(t, "bool"),
			`"` + b64 + `";p=` + b64, "/" + b64} {
			if got, ok := parseIdempotencyKey(in); ok {
				t.Fatalf("parse(%q) = %q: not an sf-string or token", in, got)
			}
		}
	})
}

// rapidASCII is the printable ASCII range of an sf-string.
var rapidASCII = unicode.RangeTable{R16: []unicode.Range16{{Lo: 0x20, Hi: 0x7e, Stride: 1}}}

func TestKept(t *testing.T) {
	for status, want := range map[int]bool{200: true, 201: true, 400: false, 404: false, 409: false, 412: false, 413: false,
		415: false, 422: false, 500: false, 503: false} {
		assert.Equal(t, want, kept(status), "%d", status)
	}
}
