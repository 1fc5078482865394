package httpapi

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/bondregistry/bond-registry/internal/bond"
)

// Entity tags and conditional requests (RFC 9110 §8.8.3, §13). A bond's
// entity tag is its version as a strong tag ("3"). The headers If-Match and
// If-None-Match become a bond.Precondition, whose meaning is the domain's.

// etag is the strong entity tag of version v.
func etag(v int64) string { return `"` + strconv.FormatInt(v, 10) + `"` }

// preconditionOf reads If-Match and If-None-Match (each a list of entity
// tags or "*", possibly over several header lines). An entity tag is an
// opaque string compared character by character: a tag names a version
// only when it is exactly what etag writes. If-Match compares strongly (a
// weak tag W/"3" matches nothing), If-None-Match weakly (W/"3" and "3" both
// name version 3). A tag that names no version, or a header that does not
// parse as a list of entity tags, matches nothing: a failed If-Match, a
// satisfied If-None-Match.
func preconditionOf(h http.Header) bond.Precondition {
	var p bond.Precondition
	if lines, ok := h["If-Match"]; ok {
		p.IfMatch = versionsOf(lines, false)
	}
	if lines, ok := h["If-None-Match"]; ok {
		p.IfNoneMatch = versionsOf(lines, true)
	}
	return p
}

// versionsOf returns the versions the entity tags of lines name.
func versionsOf(lines []string, weak bool) *bond.Versions {
	vs := &bond.Versions{}
	for _, line := range lines {
		tags, ok := parseTagList(line)
		if !ok {
			continue
		}
		for _, t := range tags {
			switch {
			case t == "*":
				vs.Any = true
			case strings.HasPrefix(t, "W/") && !weak:
				// weak tags never match strongly
			default:
				if v, ok := versionOfTag(strings.TrimPrefix(t, "W/")); ok {
					vs.List = append(vs.List, v)
				}
			}
		}
	}
	return vs
}

// versionOfTag returns the version a strong entity tag names: the tag must
// be exactly etag(v) for a version v >= 0.
func versionOfTag(tag string) (int64, bool) {
	if len(tag) < 3 || tag[0] != '"' || tag[len(tag)-1] != '"' {
		return 0, false
	}
	v, err := strconv.ParseInt(tag[1:len(tag)-1], 10, 64)
	if err != nil || v < 0 || etag(v) != tag {
		return 0, false
	}
	return v, true
}

// parseTagList splits one header line of the form
// "*" / #entity-tag (RFC 9110 §13.1.1) into its members, each "*" or an
// entity tag with its quotes and any W/ prefix. ok is false when the line
// does not follow the grammar: "*" with anything else, or a member that is
// not an entity tag (empty list elements are allowed, as the # rule says,
// RFC 9110 §5.6.1). There is no bound on the number of tags but the header
// cap: a bound that made a long list "match nothing" would let a write
// through that If-None-Match meant to stop.
func parseTagList(line string) (tags []string, ok bool) {
	s := line
	for {
		s = strings.TrimLeft(s, " \t,")
		if s == "" {
			return tags, true
		}
		var tag string
		switch {
		case s[0] == '*':
			tag, s = "*", s[1:]
		default:
			start := 0
			if strings.HasPrefix(s, "W/") {
				start = 2
			}
			if len(s) <= start || s[start] != '"' {
				return nil, false
			}
			end := strings.IndexByte(s[start+1:], '"')
			if end < 0 {
				return nil, false
			}
			end += start + 2
			for i := start + 1; i < end-1; i++ {
				if c := s[i]; c < 0x21 || c == 0x7f { // etagc: %x21 / %x23-7E / obs-text
					return nil, false
				}
			}
			tag, s = s[:end], s[end:]
		}
		tags = append(tags, tag)
		if len(tags) > 1 && (tag == "*" || tags[0] == "*") {
			return nil, false // "*" stands alone
		}
		s = strings.TrimLeft(s, " \t")
		if s != "" && s[0] != ',' {
			return nil, false
		}
	}
}
