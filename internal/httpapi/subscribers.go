package httpapi

import (
	"context"
	"net/http"

	"github.com/bondregistry/bond-registry/internal/bond"
)

// handleSubscriberList handles "GET /bonds/{bond_id}/subscribers": the map of
// subscribers, with the bond's ETag (usable in If-Match on the writes below).
func handleSubscriberList(repo bond.Repository) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		b, err := getPathBond(r, repo)
		if err != nil {
			writeError(w, r, err)
			return
		}
		w.Header().Set("ETag", b.ETag())
		encode(w, http.StatusOK, subscribersJSON(b.Subscribers)) // {} when nil
	}
}

// handleSubscriberGet handles "GET /bonds/{bond_id}/subscribers/{sid}".
func handleSubscriberGet(repo bond.Repository) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		sid, sidProblems := pathSID(r)
		b, err := getPathBond(r, repo, sidProblems...)
		if err != nil {
			writeError(w, r, err)
			return
		}
		s, ok := b.Subscribers[sid]
		if !ok {
			writeError(w, r, bond.ErrSubscriberNotFound(b.BondID, sid))
			return
		}
		w.Header().Set("ETag", b.ETag())
		encode(w, http.StatusOK, s)
	}
}

// handleSubscriberAdd handles "POST /bonds/{bond_id}/subscribers": adds the
// subscriber, or replaces the one with the same sid, atomically; 200 with the
// bond.
func handleSubscriberAdd(repo bond.Repository) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		id, problems := pathBondID(r)
		s, err := decodeBody(w, r, problems, bond.DecodeSubscriber)
		if err != nil {
			writeError(w, r, err)
			return
		}
		conditionalWrite(w, r, id, func(ctx context.Context, ifVersion int64) (bond.Bond, error) {
			return repo.PutSubscriber(ctx, id, s, ifVersion)
		})
	}
}

// handleSubscriberRemove handles "DELETE /bonds/{bond_id}/subscribers/{sid}":
// 200 with the bond, also when the sid was absent.
func handleSubscriberRemove(repo bond.Repository) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		id, problems := pathBondID(r)
		sid, sidProblems := pathSID(r)
		if err := withProblems(append(problems, sidProblems...), nil); err != nil {
			writeError(w, r, err)
			return
		}
		conditionalWrite(w, r, id, func(ctx context.Context, ifVersion int64) (bond.Bond, error) {
			return repo.RemoveSubscriber(ctx, id, sid, ifVersion)
		})
	}
}
