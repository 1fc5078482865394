package httpapi

import (
	"net/http"

	"github.com/bondregistry/bond-registry/internal/bond"
)

// handleSubscriberList handles "GET /bonds/{bond_id}/subscribers": the map of
// subscribers, with the bond's entity tag (usable in If-Match on the writes
// below), under If-Match / If-None-Match.
func handleSubscriberList(repo bond.Repository) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		b, err := getPathBond(r, repo)
		if err != nil {
			writeError(w, r, err)
			return
		}
		respondRead(w, r, b, shown(b).Subscribers)
	}
}

// handleSubscriberGet handles "GET /bonds/{bond_id}/subscribers/{sid}": one
// subscriber, with the bond's entity tag, under If-Match / If-None-Match.
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
		respondRead(w, r, b, s)
	}
}

// handleSubscriberAdd handles "POST /bonds/{bond_id}/subscribers": adds the
// subscriber, or replaces the one with the same sid, atomically; 200 with the
// bond.
func handleSubscriberAdd(repo bond.Repository) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		id, problems := pathBondID(r)
		s, err := decodeBody(w, r, problems, decodeSubscriber)
		var b bond.Bond
		if err == nil {
			b, err = bond.PutSubscriber(completing(r, respondOK), repo, id, s, preconditionOf(r.Header))
			err = bodyLocs(err)
		}
		respondWrite(w, r, b, err)
	}
}

// handleSubscriberRemove handles "DELETE /bonds/{bond_id}/subscribers/{sid}":
// 200 with the bond, also when the sid was absent.
func handleSubscriberRemove(repo bond.Repository) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		id, problems := pathBondID(r)
		sid, sidProblems := pathSID(r)
		err := withProblems(append(problems, sidProblems...), nil)
		var b bond.Bond
		if err == nil {
			b, err = bond.RemoveSubscriber(r.Context(), repo, id, sid, preconditionOf(r.Header))
		}
		respondWrite(w, r, b, err)
	}
}
