package httpapi

import (
	"bytes"
	"io"
	"net/http"
	"net/url"
	"strconv"

	"github.com/bondregistry/bond-registry/internal/bond"
)

// pathRevision returns the {revision} of the path and its problems: a
// revision number is a whole number from 1 to bond.MaxRevision.
func pathRevision(r *http.Request) (int64, []bond.Problem) {
	v := pathValue(r, "revision")
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < 1 || n > bond.MaxRevision || strconv.FormatInt(n, 10) != v {
		return 0, []bond.Problem{{Loc: []string{"path", "revision"}, Type: "type_error.integer",
			Msg: "value is not a revision number (a whole number from 1, without sign or leading zeros)"}}
	}
	return n, nil
}

// pathRevisionOf returns the {bond_id} and {revision} of the path, with
// their problems as one error.
func pathRevisionOf(r *http.Request) (string, int64, error) {
	id, problems := pathBondID(r)
	n, more := pathRevision(r)
	return id, n, withProblems(append(problems, more...), nil)
}

// handleRevisionList handles "GET /bonds/{bond_id}/revisions": the bond's
// revisions, newest first, at most limit, with a Link rel="next" header
// when more exist; 404 when the id has none.
func handleRevisionList(repo bond.Repository, tokens tokenSigner) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		id, problems := pathBondID(r)
		limit, below, err := parseRevisionQuery(r.URL.RawQuery, id, tokens)
		err = withProblems(problems, err)
		var page bond.RevisionPage
		if err == nil {
			page, err = bond.ListRevisions(r.Context(), repo, id, limit, below)
		}
		if err != nil {
			writeError(w, r, err)
			return
		}
		if page.Next != 0 {
			q := "</bonds/" + url.PathEscape(id) + "/revisions?"
			if limit != bond.DefaultPageLimit {
				q += "limit=" + strconv.Itoa(limit) + "&"
			}
			w.Header().Set("Link", q+"next_token="+url.QueryEscape(tokens.signRevisions(id, page.Next))+`>; rel="next"`)
		}
		encode(w, http.StatusOK, page.Revisions)
	}
}

// revisionParams are the query parameters of GET /bonds/{bond_id}/revisions;
// any other is a 422, as for GET /bonds.
var revisionParams = []string{"limit", "next_token"}

// parseRevisionQuery reads limit and next_token of a revisions listing.
func parseRevisionQuery(rawQuery, id string, tokens tokenSigner) (limit int, below int64, err error) {
	values, err := url.ParseQuery(rawQuery)
	if err != nil {
		return 0, 0, bond.Invalid(bond.Problem{Loc: []string{"query"},
			Msg: "the query string is not valid URL encoding", Type: "value_error.query"})
	}
	ps := unknownParams(values, "GET /bonds/{bond_id}/revisions", revisionParams)
	// The same rules as GET /bonds: one parser for limit.
	lq, err := parseListQuery(url.Values{"limit": values["limit"]}.Encode(), tokens)
	if len(values["limit"]) == 0 {
		lq, err = listQuery{limit: bond.DefaultPageLimit}, nil
	}
	if err = withProblems(ps, err); err != nil {
		return 0, 0, err
	}
	if v, ok := values["next_token"]; ok {
		if below, ok = tokens.verifyRevisions(id, v[0]); !ok {
			return 0, 0, bond.Invalid(badRevisionsToken())
		}
	}
	return lq.limit, below, nil
}

func badRevisionsToken() bond.Problem {
	return bond.Problem{Loc: []string{"query", "next_token"}, Type: "value_error.next_token",
		Msg: "invalid next_token: use the Link header of the previous page of this bond's revisions"}
}

// handleRevisionGet handles "GET /bonds/{bond_id}/revisions/{revision}": one
// revision, with the entity tag of the version it recorded, under If-Match /
// If-None-Match (304, 412) evaluated against that tag; 404 when absent.
func handleRevisionGet(repo bond.Repository) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		id, n, err := pathRevisionOf(r)
		var rev bond.Revision
		if err == nil {
			rev, err = bond.GetRevision(r.Context(), repo, id, n)
		}
		if err != nil {
			writeError(w, r, err)
			return
		}
		respondRead(w, r, bond.Bond{BondID: id, Version: rev.Version}, rev)
	}
}

// handleRevisionRestore handles "POST /bonds/{bond_id}/revisions/{revision}/restore":
// the bond becomes that revision's representation (re-created when it is
// deleted), as a new revision; 200 with the bond and its entity tag, under
// If-Match / If-None-Match.
func handleRevisionRestore(repo bond.Repository) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		id, n, err := pathRevisionOf(r)
		if err == nil {
			err = noBody(w, r)
		}
		var b bond.Bond
		if err == nil {
			b, err = bond.Restore(completing(r, respondOK), repo, id, n, preconditionOf(r.Header))
		}
		respondWrite(w, r, b, err)
	}
}

// noBody reads the body of a request that takes none: it must be empty or
// the empty object, whatever its type, else 422, so that a client sending a
// bond to restore never has it silently ignored. At most MaxBodyBytes are
// read.
func noBody(w http.ResponseWriter, r *http.Request) error {
	data, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxBodyBytes))
	if trimmed := bytes.TrimSpace(data); err != nil || len(trimmed) > 0 && !bytes.Equal(trimmed, []byte("{}")) {
		return bond.Invalid(bond.Problem{Loc: []string{"body"}, Type: "value_error.body",
			Msg: "this route takes no body (an empty body or {})"})
	}
	return nil
}
