package difftest

import "strings"

// Conditional requests as RFC 9110 §13 states them, written here from the
// RFC (not from internal/httpapi), for the model.

// entityTag is one member of an If-Match / If-None-Match list.
type entityTag struct {
	weak   bool
	opaque string // with its quotes
}

// parseTagList splits a field value into its members (RFC 9110 §5.6.1: a
// comma-separated list, empty members and optional whitespace allowed).
// A comma inside a quoted opaque-tag belongs to the tag (etagc includes
// %x2C). star reports a lone "*". A header that does not parse as a list
// of entity tags matches nothing (docs/api.md, "Conditional requests"): then
// neither tags nor star.
func parseTagList(v string) (tags []entityTag, star bool) {
	var members []string
	inQuote := false
	start := 0
	for i := 0; i < len(v); i++ {
		switch v[i] {
		case '"':
			inQuote = !inQuote
		case ',':
			if !inQuote {
				members = append(members, v[start:i])
				start = i + 1
			}
		}
	}
	members = append(members, v[start:])
	for _, m := range members {
		m = strings.Trim(m, " \t")
		if m == "" {
			continue
		}
		if m == "*" {
			star = true
			continue
		}
		t, ok := parseEntityTag(m)
		if !ok {
			return nil, false
		}
		tags = append(tags, t)
	}
	return tags, star
}

// parseEntityTag parses entity-tag = [ weak ] opaque-tag, opaque-tag = DQUOTE
// *etagc DQUOTE, etagc = %x21 / %x23-7E / obs-text.
func parseEntityTag(s string) (entityTag, bool) {
	var t entityTag
	if strings.HasPrefix(s, "W/") {
		t.weak = true
		s = s[2:]
	}
	if len(s) < 2 || s[0] != '"' || s[len(s)-1] != '"' {
		return t, false
	}
	for i := 1; i < len(s)-1; i++ {
		c := s[i]
		if c == '"' || c < 0x21 || c == 0x7f {
			return t, false
		}
	}
	t.opaque = s
	return t, true
}

// ifMatchPasses evaluates If-Match (RFC 9110 §13.1.1) against the current
// strong ETag (empty when the bond does not exist): "*" is true when a
// representation exists; otherwise true when a member matches by strong
// comparison (both strong, opaque-tags equal character by character).
func ifMatchPasses(header, etag string) bool {
	if etag == "" {
		return false
	}
	tags, star := parseTagList(header)
	if star {
		return true
	}
	for _, t := range tags {
		if !t.weak && t.opaque == etag {
			return true
		}
	}
	return false
}

// ifNoneMatchPasses evaluates If-None-Match (RFC 9110 §13.1.2): false when
// "*" and a representation exists, or when a member matches by weak
// comparison (opaque-tags equal, W/ ignored on either side); true otherwise.
func ifNoneMatchPasses(header, etag string) bool {
	if etag == "" {
		return true
	}
	tags, star := parseTagList(header)
	if star {
		return false
	}
	for _, t := range tags {
		if t.opaque == etag {
			return false
		}
	}
	return true
}
