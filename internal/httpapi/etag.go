package httpapi

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/bondregistry/bond-registry/internal/bond"
)

// ifMatch is a parsed If-Match header (RFC 9110 13.1.1) of a write.
type ifMatch struct {
	present bool  // the header was sent
	any     bool  // "*": any current version, but the bond must exist
	version int64 // the expected version; bond.AnyVersion when absent or "*"
}

// parseIfMatch reads If-Match. We accept "*" or one strong entity tag as we
// send it in ETag ("<version>"). Anything else (a weak tag, a list, a tag
// that is not a version) can never match, and is answered like a stale one:
// 412 (we chose 412 over 400, because RFC 9110 says a failed If-Match is a
// 412, and no such tag can succeed).
func parseIfMatch(r *http.Request) (ifMatch, error) {
	h, ok := r.Header["If-Match"]
	if !ok {
		return ifMatch{version: bond.AnyVersion}, nil
	}
	v := strings.TrimSpace(strings.Join(h, ","))
	if v == "*" {
		return ifMatch{present: true, any: true, version: bond.AnyVersion}, nil
	}
	if n, ok := parseETag(v); ok {
		return ifMatch{present: true, version: n}, nil
	}
	return ifMatch{}, bond.Errorf(bond.KindVersionMismatch,
		`If-Match must be "*" or one entity tag as sent in ETag, such as "3".`)
}

// parseETag returns the version in a strong entity tag "<n>".
func parseETag(tag string) (int64, bool) {
	if len(tag) < 3 || tag[0] != '"' || tag[len(tag)-1] != '"' {
		return 0, false
	}
	digits := tag[1 : len(tag)-1]
	if digits[0] == '+' || digits[0] == '-' {
		return 0, false
	}
	n, err := strconv.ParseInt(digits, 10, 64)
	return n, err == nil
}

// notFoundIsStale turns a not-found of the bond into a 412 when the write
// had an If-Match: RFC 9110 evaluates the precondition first, and a bond
// that does not exist has no version to match (bond.Repository.Delete says
// the same). Other errors pass through.
func (m ifMatch) notFoundIsStale(err error, id string) error {
	if !m.present || bond.KindOf(err) != bond.KindNotFound {
		return err
	}
	if m.any {
		return bond.Errorf(bond.KindVersionMismatch, "Bond %s does not exist (If-Match: *).", id)
	}
	return bond.ErrVersionMismatch(id, m.version)
}

// noneMatch reports whether If-None-Match (RFC 9110 13.1.2) matches etag:
// "*" matches any, else any tag of the list matches by weak comparison
// (W/ prefixes ignored).
func noneMatch(header []string, etag string) bool {
	for _, h := range header {
		for tag := range strings.SplitSeq(h, ",") {
			tag = strings.TrimSpace(tag)
			if tag == "*" || strings.TrimPrefix(tag, "W/") == strings.TrimPrefix(etag, "W/") {
				return true
			}
		}
	}
	return false
}
