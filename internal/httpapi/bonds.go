package httpapi

import (
	"net/http"
	"net/url"

	"github.com/bondregistry/bond-registry/internal/bond"
)

// handleBondGet handles "GET /bonds/{bond_id}": the bond with its entity
// tag, under If-Match / If-None-Match (304, 412).
func handleBondGet(repo bond.Repository) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		b, err := getPathBond(r, repo)
		if err != nil {
			writeError(w, r, err)
			return
		}
		respondRead(w, r, b, shown(b))
	}
}

// handleBondCreate handles "POST /bonds": 201 with Location and ETag.
func handleBondCreate(repo bond.Repository) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		b, err := decodeBody(w, r, nil, decodeBond)
		if err == nil {
			b, err = bond.Create(completing(r, respondCreated), repo, b)
			err = bodyLocs(err)
		}
		if err != nil {
			writeError(w, r, err)
			return
		}
		respondCreated(w, b)
	}
}

// respondCreated answers a create of b: 201 with Location and ETag.
func respondCreated(w http.ResponseWriter, b bond.Bond) {
	w.Header().Set("Location", "/bonds/"+url.PathEscape(b.BondID))
	respondBond(w, http.StatusCreated, b)
}

// handleBondUpdate handles "PUT /bonds/{bond_id}": a partial update (fields
// present replace the stored ones), under If-Match / If-None-Match.
func handleBondUpdate(repo bond.Repository) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		id, problems := pathBondID(r)
		u, err := decodeBody(w, r, problems, func(data []byte) (bond.Update, error) { return decodeUpdate(data, id) })
		var b bond.Bond
		if err == nil {
			b, err = bond.UpdateBond(r.Context(), repo, id, u, preconditionOf(r.Header))
			err = bodyLocs(err)
		}
		respondWrite(w, r, b, err)
	}
}

// handleBondDelete handles "DELETE /bonds/{bond_id}": 204, also when the bond
// did not exist, unless a precondition requires it (then 412).
func handleBondDelete(repo bond.Repository) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		id, problems := pathBondID(r)
		err := withProblems(problems, nil)
		if err == nil {
			err = bond.Delete(r.Context(), repo, id, preconditionOf(r.Header))
		}
		if err != nil {
			writeError(w, r, err)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	}
}
