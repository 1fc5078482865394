package bond

import (
	"net/mail"
	"strings"
)

// isAddress reports whether v is a bare email address: an addr-spec (RFC
// 5322 §3.4.1) that net/mail parses as itself, with no display name
// ("Bob <bob@example.com>" parses but is not one). The common form, a
// dot-atom "@" dot-atom of ASCII atext, is recognised without the parser
// (which allocates); net/mail accepts every such address as it is, which
// TestIsAddress checks on generated input. Everything else goes to net/mail.
func isAddress(v string) bool {
	if at := strings.IndexByte(v, '@'); at > 0 && dotAtom(v[:at]) && dotAtom(v[at+1:]) {
		return true
	}
	a, err := mail.ParseAddress(v)
	return err == nil && a.Address == v && a.Name == ""
}

// dotAtom reports whether s is one or more runs of ASCII atext separated by
// single dots (RFC 5322 §3.2.3).
func dotAtom(s string) bool {
	dot := true // at the start, as after a dot: a run must follow
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '.':
			if dot {
				return false
			}
			dot = true
		case atext[c]:
			dot = false
		default:
			return false
		}
	}
	return !dot
}

// atext is RFC 5322's atext: ASCII letters, digits and !#$%&'*+-/=?^_`{|}~.
var atext = func() (t [256]bool) {
	for c := 'a'; c <= 'z'; c++ {
		t[c], t[c-'a'+'A'] = true, true
	}
	for c := '0'; c <= '9'; c++ {
		t[c] = true
	}
	for _, c := range "!#$%&'*+-/=?^_`{|}~" {
		t[c] = true
	}
	return t
}()
