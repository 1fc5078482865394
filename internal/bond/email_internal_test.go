package bond

import (
	"net/mail"
	"testing"

	"pgregory.net/rapid"
)

// TestIsAddress: the dot-atom shortcut of isAddress accepts only what
// net/mail accepts as a bare address, on generated strings of atext, dots,
// '@' and the characters that make addresses hard (quotes, brackets,
// spaces, comments, non-ASCII).
func TestIsAddress(t *testing.T) {
	slow := func(v string) bool {
		a, err := mail.ParseAddress(v)
		return err == nil && a.Address == v && a.Name == ""
	}
	for _, v := range []string{"a@b", "richharper@example.com", "x.y+z@a-b.example", "o'neil@example.com", "a@b.c.d"} {
		if !isAddress(v) || !slow(v) {
			t.Errorf("%q: isAddress %v, net/mail %v; want both true", v, isAddress(v), slow(v))
		}
	}
	chars := rapid.SampledFrom([]rune("aZ09.@!#$%&'*+-/=?^_`{|}~\"()<>[]:;,\\ é\t"))
	rapid.Check(t, func(t *rapid.T) {
		v := string(rapid.SliceOfN(chars, 1, 16).Draw(t, "runes"))
		if isAddress(v) != slow(v) {
			t.Fatalf("%q: isAddress %v, net/mail %v", v, isAddress(v), slow(v))
		}
	})
}
