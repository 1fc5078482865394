package httpapi

import (
	"context"
	"net/http"
	"net/url"

	"github.com/bondregistry/bond-registry/internal/bond"
)

// handleBondGet handles "GET /bonds/{bond_id}": the bond with its ETag, or
// 304 when If-None-Match names the current version.
func handleBondGet(repo bond.Repository) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		b, err := getPathBond(r, repo)
		if err != nil {
			writeError(w, r, err)
			return
		}
		if noneMatch(r.Header.Values("If-None-Match"), b.ETag()) {
			w.Header().Set("ETag", b.ETag())
			w.WriteHeader(http.StatusNotModified)
			return
		}
		respondBond(w, http.StatusOK, b)
	}
}

// handleBondCreate handles "POST /bonds": 201 with Location and ETag.
func handleBondCreate(repo bond.Repository) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		b, err := decodeBody(w, r, nil, bond.DecodeBond)
		if err != nil {
			writeError(w, r, err)
			return
		}
		b, err = repo.Create(r.Context(), b)
		if err != nil {
			writeError(w, r, err)
			return
		}
		w.Header().Set("Location", "/bonds/"+url.PathEscape(b.BondID))
		respondBond(w, http.StatusCreated, b)
	}
}

// handleBondUpdate handles "PUT /bonds/{bond_id}": a partial update (fields
// present replace the stored ones), conditional on If-Match when sent.
func handleBondUpdate(repo bond.Repository) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		id, problems := pathBondID(r)
		u, err := decodeBody(w, r, problems, func(data []byte) (bond.Update, error) { return bond.DecodeUpdate(data, id) })
		if err != nil {
			writeError(w, r, err)
			return
		}
		conditionalWrite(w, r, id, func(ctx context.Context, ifVersion int64) (bond.Bond, error) {
			return repo.Update(ctx, id, u, ifVersion)
		})
	}
}

// handleBondDelete handles "DELETE /bonds/{bond_id}": 204, also when the bond
// did not exist, unless If-Match was sent (then a missing bond is a 412).
func handleBondDelete(repo bond.Repository) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		id, problems := pathBondID(r)
		if err := withProblems(problems, nil); err != nil {
			writeError(w, r, err)
			return
		}
		cond, err := parseIfMatch(r)
		if err != nil {
			writeError(w, r, err)
			return
		}
		if cond.any {
			// "*" asks for an existing bond, which Delete(AnyVersion) does not
			// check: the one route that needs a second store call.
			if _, err := repo.Get(r.Context(), id); err != nil {
				writeError(w, r, cond.notFoundIsStale(err, id))
				return
			}
		}
		if err := repo.Delete(r.Context(), id, cond.version); err != nil {
			writeError(w, r, cond.notFoundIsStale(err, id))
			return
		}
		w.WriteHeader(http.StatusNoContent)
	}
}
