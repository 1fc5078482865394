package httpapi

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/bondregistry/bond-registry/internal/bond"
)

// listQuery is the parsed query of GET /bonds.
type listQuery struct {
	filter bond.Filter
	limit  int
	cursor string
	// raw holds the recognised parameters as normalised text, in the order
	// of the contract, for the Link header.
	raw [][2]string
}

// handleBondList handles "GET /bonds": a JSON array of the matching bonds, at
// most limit of them and at most bond.MaxPageBytes as sent (or one bond,
// when one alone is larger), with a Link rel="next" header when more exist.
// Each page is built and sent under budget (pageBudget).
func handleBondList(repo bond.Repository, tokens tokenSigner, budget *pageBudget) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		q, err := parseListQuery(r.URL.RawQuery, tokens)
		if err != nil {
			writeError(w, r, err)
			return
		}
		if !budget.reserve(r.Context()) {
			writeError(w, r, errBusy)
			return
		}
		held := int64(bond.MaxPageBytes)
		defer func() { budget.release(held) }()
		body := newPageBody()
		page, err := bond.ListPageMeasured(r.Context(), repo, q.filter, q.limit, q.cursor, body.add, body.maxBonds())
		if err == nil {
			err = body.err
		}
		if err != nil {
			if bond.KindOf(err) == bond.KindInvalid { // a signed cursor the store cannot read
				err = bond.Invalid(badToken())
			}
			writeError(w, r, err)
			return
		}
		if page.Next != "" {
			w.Header().Set("Link", nextLink(q, tokens.sign(q.filter, page.Next)))
		}
		out := body.bytes(len(page.Bonds))
		budget.release(held - int64(len(out))) // the rest is held while it is sent: a slow client holds its page
		held = int64(len(out))
		writeJSON(w, http.StatusOK, out)
	}
}

// pageBody is the JSON array of a list page, encoded as ListPageMeasured
// takes each bond, by the encoder of every response, so that the bytes
// measured are the bytes sent.
type pageBody struct {
	buf  bytes.Buffer
	enc  *json.Encoder
	ends []int // buf.Len() after each bond added
	err  error
}

// pageClose ends the array of a non-empty page: "]" and the encoder's
// newline. Each bond adds its own '[' or ','.
const pageClose = "]\n"

func newPageBody() *pageBody {
	p := &pageBody{}
	p.enc = newEncoder(&p.buf)
	return p
}

// maxBonds is the bound of ListPageMeasured: the bytes the bonds of a page
// may add, so that with pageClose the body is at most bond.MaxPageBytes.
func (p *pageBody) maxBonds() int { return bond.MaxPageBytes - len(pageClose) }

// add encodes b, as responses show it, after a '[' (the first bond) or a
// ',', and returns the bytes it added.
func (p *pageBody) add(b bond.Bond) int {
	start := p.buf.Len()
	sep := byte(',')
	if start == 0 {
		sep = '['
	}
	p.buf.WriteByte(sep)
	if err := p.enc.Encode(shown(b)); err != nil && p.err == nil {
		p.err = err
	}
	p.buf.Truncate(p.buf.Len() - 1) // Encode's newline (or the separator, on an error)
	p.ends = append(p.ends, p.buf.Len())
	return p.buf.Len() - start
}

// bytes returns the body of the page of the first n bonds added.
func (p *pageBody) bytes(n int) []byte {
	if n == 0 {
		return []byte("[]\n")
	}
	p.buf.Truncate(p.ends[n-1])
	p.buf.WriteString(pageClose)
	return p.buf.Bytes()
}

// listParams are the query parameters of GET /bonds; any other is a 422
// (value_error.extra at ["query", name]), so that a misspelt filter
// (host_cost_center=olive) is not taken for no filter and every bond listed.
var listParams = []string{"cost_center_id", "account_id", "by_host", "limit", "next_token"}

// parseListQuery parses and checks every parameter, reporting all problems
// at once: unknown parameters among them. Of a repeated one, the first
// counts.
func parseListQuery(rawQuery string, tokens tokenSigner) (listQuery, error) {
	lq := listQuery{filter: bond.Filter{ByHost: true}, limit: bond.DefaultPageLimit}
	values, err := url.ParseQuery(rawQuery)
	if err != nil {
		return lq, bond.Invalid(bond.Problem{Loc: []string{"query"},
			Msg: "the query string is not valid URL encoding", Type: "value_error.query"})
	}
	ps := unknownParams(values, "GET /bonds", listParams)
	get := func(name string) (string, bool) {
		v, ok := values[name]
		if !ok {
			return "", false
		}
		return v[0], true
	}
	if v, ok := get("cost_center_id"); ok {
		ps = append(ps, at(bond.ValidateID(v), "query", "cost_center_id")...)
		lq.filter.CostCenter = v
		lq.raw = append(lq.raw, [2]string{"cost_center_id", v})
	}
	if v, ok := get("account_id"); ok {
		ps = append(ps, at(bond.ValidateID(v), "query", "account_id")...)
		lq.filter.Account = v
		lq.raw = append(lq.raw, [2]string{"account_id", v})
	}
	if v, ok := get("by_host"); ok {
		switch strings.ToLower(v) {
		case "true", "1":
			lq.filter.ByHost = true
		case "false", "0":
			lq.filter.ByHost = false
		default:
			ps = append(ps, bond.Problem{Loc: []string{"query", "by_host"},
				Msg: "value could not be parsed to a boolean (true, false, 1, 0, in any case)", Type: "type_error.bool"})
		}
		lq.raw = append(lq.raw, [2]string{"by_host", strconv.FormatBool(lq.filter.ByHost)})
	}
	if v, ok := get("limit"); ok {
		n, err := strconv.Atoi(v)
		switch {
		case err != nil:
			ps = append(ps, bond.Problem{Loc: []string{"query", "limit"},
				Msg: "value is not a valid integer", Type: "type_error.integer"})
		case n < 1:
			ps = append(ps, bond.Problem{Loc: []string{"query", "limit"},
				Msg: "ensure this value is greater than or equal to 1", Type: "value_error.number.not_ge"})
		case n > bond.MaxPageLimit:
			ps = append(ps, bond.Problem{Loc: []string{"query", "limit"},
				Msg: fmt.Sprintf("ensure this value is less than or equal to %d", bond.MaxPageLimit), Type: "value_error.number.not_le"})
		default:
			lq.limit = n
			lq.raw = append(lq.raw, [2]string{"limit", v})
		}
	}
	// The token is checked against the filter, so only once the filter is
	// known to be good: a bad filter is the one problem to fix.
	if v, ok := get("next_token"); ok && len(ps) == 0 {
		cursor, ok := tokens.verify(lq.filter, v)
		if !ok {
			ps = append(ps, badToken())
		}
		lq.cursor = cursor
	}
	if len(ps) > 0 {
		return lq, bond.Invalid(ps...)
	}
	return lq, nil
}

func badToken() bond.Problem {
	return bond.Problem{Loc: []string{"query", "next_token"}, Type: "value_error.next_token",
		Msg: "invalid next_token: use the Link header of the previous page, with the same query"}
}

// nextLink is the RFC 8288 Link header to the page after this one: the same
// recognised parameters, and the new token.
func nextLink(q listQuery, token string) string {
	var b strings.Builder
	b.WriteString("</bonds?")
	for _, kv := range q.raw {
		b.WriteString(url.QueryEscape(kv[0]) + "=" + url.QueryEscape(kv[1]) + "&")
	}
	b.WriteString("next_token=" + url.QueryEscape(token))
	b.WriteString(`>; rel="next"`)
	return b.String()
}
