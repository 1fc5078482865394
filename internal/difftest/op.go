package difftest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// Kind is the operation of one step: one route and method of the API.
type Kind int

// The operations. Each is one request, except List and RevList, which walk
// every page by following Link rel="next".
const (
	Create      Kind = iota // POST /bonds
	Get                     // GET /bonds/{bond_id}
	Update                  // PUT /bonds/{bond_id}
	Delete                  // DELETE /bonds/{bond_id}
	SubList                 // GET /bonds/{bond_id}/subscribers
	SubAdd                  // POST /bonds/{bond_id}/subscribers
	SubGet                  // GET /bonds/{bond_id}/subscribers/{sid}
	SubRemove               // DELETE /bonds/{bond_id}/subscribers/{sid}
	List                    // GET /bonds?..., every page
	HeadGet                 // HEAD /bonds/{bond_id}
	HeadSubList             // HEAD /bonds/{bond_id}/subscribers
	HeadSubGet              // HEAD /bonds/{bond_id}/subscribers/{sid}
	HeadList                // HEAD /bonds?..., first page only
	RevList                 // GET /bonds/{bond_id}/revisions?..., every page
	RevGet                  // GET /bonds/{bond_id}/revisions/{revision}
	RevRestore              // POST /bonds/{bond_id}/revisions/{revision}/restore
	numKinds
)

var kindNames = [...]string{"Create", "Get", "Update", "Delete", "SubList", "SubAdd", "SubGet", "SubRemove",
	"List", "HeadGet", "HeadSubList", "HeadSubGet", "HeadList",
	"RevList", "RevGet", "RevRestore"}

func (k Kind) String() string {
	if k >= 0 && k < numKinds {
		return kindNames[k]
	}
	return "Kind(" + strconv.Itoa(int(k)) + ")"
}

// Head reports whether k is a HEAD request, and of which GET it is the HEAD.
func (k Kind) Head() (Kind, bool) {
	switch k {
	case HeadGet:
		return Get, true
	case HeadSubList:
		return SubList, true
	case HeadSubGet:
		return SubGet, true
	case HeadList:
		return List, true
	}
	return k, false
}

// Esc is how path segments are percent-encoded.
type Esc int

const (
	// EscPath is url.PathEscape ('[', ']', ':', '+' and others sent as is
	// where RFC 3986 allows).
	EscPath Esc = iota
	// EscAll percent-encodes every byte but ALPHA / DIGIT / "-" / "_" / "~",
	// dots included.
	EscAll
	// EscMin percent-encodes only what a path segment cannot hold: '[',
	// ']', ':', '@', '+', '*', '=' and the other sub-delims are sent raw.
	EscMin
)

// Bulk adds N generated subscribers "bulk<i>" to a body's "subscribers" map,
// each with a name of NameLen copies of Rune and the email
// "b<i>@example.com": the way to reach the 1,000-subscriber cap, the 400 KB
// item limit and the 1 MiB body limit without megabytes of literals.
type Bulk struct {
	N       int
	NameLen int
	Rune    string
}

// Op is one step of a sequence: everything needed to send it, as data, so a
// failing sequence can be printed as Go and replayed (see GoString).
type Op struct {
	Kind        Kind
	BondID      string  // path {bond_id}
	SID         string  // path {sid}
	Esc         Esc     // encoding of BondID and SID in the path
	Slash       bool    // collection routes: the trailing-slash form
	IfMatch     *string // If-Match header, nil when absent; "\n" separates lines
	IfNoneMatch *string // If-None-Match header, nil when absent; "\n" separates lines
	ContentType string  // "" means application/json on requests with a body
	Body        string  // JSON body (Create, Update, SubAdd), Bulk merged in
	Bulk        *Bulk
	Query       string // raw query of List / HeadList / RevList, first page
	Rev         string // path {revision}
	// RequestID is the X-Request-ID sent; step sets it (the model records
	// it in the revisions), so it is not part of the printed literal.
	RequestID string
	// Route chooses the instance for each request of the step when several
	// serve one table: bit i is the instance of the i-th request.
	Route uint64
}

// S returns a pointer to s, for Op literals.
func S(s string) *string { return &s }

// Method is the HTTP method of o.
func (o Op) Method() string {
	if _, head := o.Kind.Head(); head {
		return http.MethodHead
	}
	switch o.Kind {
	case Create, SubAdd, RevRestore:
		return http.MethodPost
	case Update:
		return http.MethodPut
	case Delete, SubRemove:
		return http.MethodDelete
	}
	return http.MethodGet
}

// HasBody reports whether o sends a body.
func (o Op) HasBody() bool { return o.Kind == Create || o.Kind == Update || o.Kind == SubAdd }

// Path is the escaped request path and query of o's first request.
func (o Op) Path() string {
	k, _ := o.Kind.Head()
	slash := ""
	if o.Slash {
		slash = "/"
	}
	switch k {
	case Create:
		return "/bonds" + slash
	case Get, Update, Delete:
		return "/bonds/" + o.Esc.escape(o.BondID)
	case SubList, SubAdd:
		return "/bonds/" + o.Esc.escape(o.BondID) + "/subscribers" + slash
	case SubGet, SubRemove:
		return "/bonds/" + o.Esc.escape(o.BondID) + "/subscribers/" + o.Esc.escape(o.SID)
	case List:
		p := "/bonds" + slash
		if o.Query != "" {
			p += "?" + o.Query
		}
		return p
	case RevList:
		p := "/bonds/" + o.Esc.escape(o.BondID) + "/revisions" + slash
		if o.Query != "" {
			p += "?" + o.Query
		}
		return p
	case RevGet:
		return "/bonds/" + o.Esc.escape(o.BondID) + "/revisions/" + o.Esc.escape(o.Rev)
	case RevRestore:
		return "/bonds/" + o.Esc.escape(o.BondID) + "/revisions/" + o.Esc.escape(o.Rev) + "/restore"
	}
	panic("difftest: no path for " + o.Kind.String())
}

func (e Esc) escape(s string) string {
	if e == EscPath {
		return url.PathEscape(s)
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		unreserved := 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_' || c == '~'
		if unreserved || e == EscMin && (c == '.' || strings.IndexByte("!$&'()*+,;=:@[]", c) >= 0) {
			b.WriteByte(c)
		} else {
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	return b.String()
}

// BodyBytes is the body o sends: Body with the Bulk subscribers merged into
// its "subscribers" object (created when absent). A Body that is not a JSON
// object is sent as it is.
func (o Op) BodyBytes() []byte {
	if o.Bulk == nil || o.Bulk.N == 0 {
		return []byte(o.Body)
	}
	var fields map[string]json.RawMessage
	if json.Unmarshal([]byte(o.Body), &fields) != nil || fields == nil {
		return []byte(o.Body)
	}
	subs := map[string]json.RawMessage{}
	if raw, ok := fields["subscribers"]; ok {
		if json.Unmarshal(raw, &subs) != nil || subs == nil {
			return []byte(o.Body)
		}
	}
	name := strings.Repeat(o.Bulk.Rune, o.Bulk.NameLen)
	for i := range o.Bulk.N {
		sid := "bulk" + strconv.Itoa(i)
		subs[sid] = mustJSON(map[string]string{"sid": sid, "name": name, "email": "b" + strconv.Itoa(i) + "@example.com"})
	}
	fields["subscribers"] = mustJSON(subs)
	return mustJSON(fields)
}

func mustJSON(v any) []byte {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		panic(err)
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
}

// Request builds o's first request against base (http://host:port).
func (o Op) Request(base string) (*http.Request, error) {
	var body []byte
	if o.HasBody() {
		body = o.BodyBytes()
	}
	req, err := http.NewRequest(o.Method(), base+o.Path(), bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	if o.HasBody() {
		ct := o.ContentType
		if ct == "" {
			ct = "application/json"
		}
		req.Header.Set("Content-Type", ct)
	}
	// A "\n" in a condition separates header lines.
	if o.IfMatch != nil {
		req.Header["If-Match"] = strings.Split(*o.IfMatch, "\n")
	}
	if o.IfNoneMatch != nil {
		req.Header["If-None-Match"] = strings.Split(*o.IfNoneMatch, "\n")
	}
	if o.RequestID != "" {
		req.Header.Set("X-Request-ID", o.RequestID)
	}
	return req, nil
}

// GoString prints o as a Go literal, for regression tests.
func (o Op) GoString() string {
	var b strings.Builder
	b.WriteString("{Kind: " + o.Kind.String())
	str := func(name, v string) {
		if v != "" {
			b.WriteString(", " + name + ": " + strconv.Quote(v))
		}
	}
	str("BondID", o.BondID)
	str("SID", o.SID)
	switch o.Esc {
	case EscAll:
		b.WriteString(", Esc: EscAll")
	case EscMin:
		b.WriteString(", Esc: EscMin")
	}
	if o.Slash {
		b.WriteString(", Slash: true")
	}
	if o.IfMatch != nil {
		b.WriteString(", IfMatch: S(" + strconv.Quote(*o.IfMatch) + ")")
	}
	if o.IfNoneMatch != nil {
		b.WriteString(", IfNoneMatch: S(" + strconv.Quote(*o.IfNoneMatch) + ")")
	}
	str("ContentType", o.ContentType)
	if o.Body != "" {
		b.WriteString(", Body: `" + strings.ReplaceAll(o.Body, "`", "`+\"`\"+`") + "`")
	}
	if o.Bulk != nil {
		fmt.Fprintf(&b, ", Bulk: &Bulk{N: %d, NameLen: %d, Rune: %q}", o.Bulk.N, o.Bulk.NameLen, o.Bulk.Rune)
	}
	str("Query", o.Query)
	str("Rev", o.Rev)
	if o.Route != 0 {
		fmt.Fprintf(&b, ", Route: %#x", o.Route)
	}
	b.WriteString("}")
	return b.String()
}
