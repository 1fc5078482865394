package httpapi

import (
	"net/http"
	"strings"

	"github.com/rs/zerolog"

	"github.com/bondregistry/bond-registry/internal/apikey"
	"github.com/bondregistry/bond-registry/internal/bond"
)

// APIKeyHeader is the header a client may send its key in instead of
// Authorization: Bearer.
const APIKeyHeader = "X-API-Key"

// The two answers of a request without a valid key, or without the scope.
var (
	errNoKey      = &httpError{http.StatusUnauthorized, "An API key is required: send it as Authorization: Bearer <key> or X-API-Key."}
	errUnknownKey = &httpError{http.StatusUnauthorized, "The API key is not valid."}
	errBadScheme  = &httpError{http.StatusUnauthorized, "Authorization must use the Bearer scheme: Authorization: Bearer <key>."}
	// errTwoCredentials is the 400 of a request that presents more than one
	// credential: RFC 9110 section 5.3 (Authorization is not a list, so it
	// comes once; so does X-API-Key) and RFC 6750 section 3.1
	// (invalid_request: "uses more than one method").
	errTwoCredentials = &httpError{http.StatusBadRequest,
		"Send one API key, once: in one Authorization line or one X-API-Key line (or both with the same key)."}
)

// forbidden is the 403 of a known key that lacks scope.
func forbidden(scope string) error {
	return &httpError{http.StatusForbidden, "The API key does not have the scope " + scope + "."}
}

// authenticator guards routes with API keys. With no keys (a nil or empty
// set) every guard lets every request through: that is the zero Config of
// NewServer, and cmd/bond-registry then listens on loopback only.
type authenticator struct{ keys *apikey.Set }

// open is the guard of a route that needs no key.
func open(next http.Handler) http.Handler { return next }

// require returns the guard of a route that needs scope: a request without a
// key, or with an unknown one, is a 401 with WWW-Authenticate (RFC 9110
// section 11.6.1, RFC 6750 section 3); a known key without the scope is a
// 403. A known key's name goes on the request's logger as ECS user.name, so
// the access line says who called, and is the actor of the revisions its
// writes append; the key itself is never logged.
func (a authenticator) require(scope string) func(http.Handler) http.Handler {
	if a.keys.Len() == 0 {
		return open
	}
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			key, err := a.authenticate(r)
			if err != nil {
				challenge := `Bearer realm="bond-registry"`
				switch err {
				case errUnknownKey:
					challenge += `, error="invalid_token"`
				case errTwoCredentials:
					challenge += `, error="invalid_request"`
				}
				w.Header().Set("WWW-Authenticate", challenge)
				writeError(w, r, err)
				return
			}
			zerolog.Ctx(r.Context()).UpdateContext(func(c zerolog.Context) zerolog.Context {
				return c.Str("user.name", key.Name)
			})
			if !key.Has(scope) {
				writeError(w, r, forbidden(scope))
				return
			}
			_, requestID := bond.AuditFrom(r.Context())
			next.ServeHTTP(w, r.WithContext(bond.WithAudit(r.Context(), key.Name, requestID)))
		})
	}
}

// authenticate returns the key the request presents, in Authorization
// (Bearer scheme, case-insensitive as RFC 9110 section 11.1 says) or in
// X-API-Key. Either header comes at most once, and when both come they hold
// the same key: a request whose credentials disagree is refused rather than
// decided by one of them (errTwoCredentials).
func (a authenticator) authenticate(r *http.Request) (apikey.Key, error) {
	auths, apiKeys := r.Header.Values("Authorization"), r.Header.Values(APIKeyHeader)
	if len(auths) > 1 || len(apiKeys) > 1 {
		return apikey.Key{}, errTwoCredentials
	}
	presented := r.Header.Get(APIKeyHeader)
	if auth := r.Header.Get("Authorization"); auth != "" {
		scheme, token, _ := strings.Cut(auth, " ")
		if !strings.EqualFold(scheme, "Bearer") {
			return apikey.Key{}, errBadScheme
		}
		token = strings.TrimSpace(token)
		if presented != "" && presented != token {
			return apikey.Key{}, errTwoCredentials
		}
		presented = token
	}
	if presented == "" {
		return apikey.Key{}, errNoKey
	}
	key, ok := a.keys.Lookup(presented)
	if !ok {
		return apikey.Key{}, errUnknownKey
	}
	return key, nil
}

// callerOf returns the name of the API key r presented (bond.AuditFrom's
// actor, set by the guards of require), or "anonymous" when no keys are
// configured: the scope of its Idempotency-Key.
func callerOf(r *http.Request) string {
	if actor, _ := bond.AuditFrom(r.Context()); actor != "" {
		return actor
	}
	return anonymousScope
}
