package bond

import (
	"slices"
	"unicode/utf8"
)

// The response encoders write exactly what encoding/json writes for these
// types (with HTML escaping off), without reflection: a bond is the body of
// most responses, and encoding/json spent more time on it than the rest of a
// GET (a test compares the two byte for byte).

// AppendJSON appends b as a JSON object to dst. Nil Subscribers is {}.
func (b Bond) AppendJSON(dst []byte) []byte {
	dst = append(dst, `{"bond_id":`...)
	dst = appendJSONString(dst, b.BondID)
	dst = append(dst, `,"host_account_id":`...)
	dst = appendJSONString(dst, b.HostAccountID)
	dst = append(dst, `,"sub_account_id":`...)
	dst = appendJSONString(dst, b.SubAccountID)
	dst = append(dst, `,"host_cost_center":`...)
	dst = appendJSONString(dst, b.HostCostCenter)
	dst = append(dst, `,"sub_cost_center":`...)
	dst = appendJSONString(dst, b.SubCostCenter)
	dst = append(dst, `,"subscribers":`...)
	dst = AppendSubscribersJSON(dst, b.Subscribers)
	return append(dst, '}')
}

// AppendJSON appends s as a JSON object to dst.
func (s Subscriber) AppendJSON(dst []byte) []byte {
	dst = append(dst, `{"sid":`...)
	dst = appendJSONString(dst, s.SID)
	dst = append(dst, `,"name":`...)
	dst = appendJSONString(dst, s.Name)
	dst = append(dst, `,"email":`...)
	dst = appendJSONString(dst, s.Email)
	return append(dst, '}')
}

// AppendSubscribersJSON appends subs as a JSON object keyed by sid, keys
// sorted as encoding/json sorts them.
func AppendSubscribersJSON(dst []byte, subs map[string]Subscriber) []byte {
	keys := make([]string, 0, len(subs))
	for k := range subs {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	dst = append(dst, '{')
	for i, k := range keys {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = appendJSONString(dst, k)
		dst = append(dst, ':')
		dst = subs[k].AppendJSON(dst)
	}
	return append(dst, '}')
}

// appendJSONString appends s as a JSON string, escaped as encoding/json does
// without HTML escaping: quote, backslash and control characters; invalid
// UTF-8 as \ufffd; U+2028 and U+2029 as \u2028 and \u2029.
func appendJSONString(dst []byte, s string) []byte {
	const hex = "0123456789abcdef"
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		if c := s[i]; c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch c {
			case '"', '\\':
				dst = append(dst, '\\', c)
			case '\b':
				dst = append(dst, '\\', 'b')
			case '\f':
				dst = append(dst, '\\', 'f')
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
		case r == '\u2028' || r == '\u2029':
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hex[r&0xf])
		default:
			i += size
			continue
		}
		i += size
		start = i
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}
