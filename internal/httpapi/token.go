package httpapi

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"strconv"

	"github.com/bondregistry/bond-registry/internal/bond"
)

// maxTokenLen bounds a next_token before any decoding work.
const maxTokenLen = 8192

// tokenSigner makes the next_token of GET /bonds: base64url(mac || cursor),
// where mac is HMAC-SHA256 over the store's cursor and the canonical filter.
// The cursor is not secret (it is a position in the store), but it must not
// be forged: a signed token cannot make a store read a cursor it never gave,
// and it binds the token to its query, so that it cannot be replayed under
// another filter.
type tokenSigner struct {
	key []byte
}

func newTokenSigner(key []byte) tokenSigner { return tokenSigner{key: key} }

// sign returns the token for the page after cursor of the listing f.
func (s tokenSigner) sign(f bond.Filter, cursor string) string {
	mac := s.mac(f, cursor)
	return base64.RawURLEncoding.EncodeToString(append(mac, cursor...))
}

// signRevisions returns the token for the page of bond id's revisions
// below revision below. Its MAC has its own tag, so that it is never taken
// for a token of GET /bonds, nor one of another bond for this one.
func (s tokenSigner) signRevisions(id string, below int64) string {
	cursor := strconv.FormatInt(below, 10)
	return base64.RawURLEncoding.EncodeToString(append(s.macOf(revisionsTag, bond.Filter{Account: id}, cursor), cursor...))
}

// verifyRevisions returns the revision below which the token made by
// signRevisions for id lists.
func (s tokenSigner) verifyRevisions(id, token string) (int64, bool) {
	raw, ok := s.open(token)
	if !ok {
		return 0, false
	}
	mac, cursor := raw[:sha256.Size], string(raw[sha256.Size:])
	below, err := strconv.ParseInt(cursor, 10, 64)
	if err != nil || below < 1 || !hmac.Equal(mac, s.macOf(revisionsTag, bond.Filter{Account: id}, cursor)) {
		return 0, false
	}
	return below, true
}

// open returns the bytes of a token, a MAC and more.
func (s tokenSigner) open(token string) ([]byte, bool) {
	if token == "" || len(token) > maxTokenLen {
		return nil, false
	}
	raw, err := base64.RawURLEncoding.Strict().DecodeString(token)
	if err != nil || len(raw) <= sha256.Size {
		return nil, false
	}
	return raw, true
}

// The tags of the two kinds of token.
const (
	listTag      = "bond-registry next_token v1"
	revisionsTag = "bond-registry revisions next_token v1"
)

// verify returns the cursor in token, if token was made by sign for f.
func (s tokenSigner) verify(f bond.Filter, token string) (string, bool) {
	raw, ok := s.open(token)
	if !ok {
		return "", false
	}
	mac, cursor := raw[:sha256.Size], string(raw[sha256.Size:])
	if !hmac.Equal(mac, s.mac(f, cursor)) {
		return "", false
	}
	return cursor, true
}

// mac authenticates a version tag, the filter and the cursor, each length-
// prefixed so that no two inputs share an encoding.
func (s tokenSigner) mac(f bond.Filter, cursor string) []byte { return s.macOf(listTag, f, cursor) }

// macOf is mac with the tag of the token's kind.
func (s tokenSigner) macOf(tag string, f bond.Filter, cursor string) []byte {
	h := hmac.New(sha256.New, s.key)
	field := func(v string) {
		h.Write(binary.AppendUvarint(nil, uint64(len(v))))
		h.Write([]byte(v))
	}
	byHost := "0"
	if f.ByHost {
		byHost = "1"
	}
	field(tag)
	field(f.CostCenter)
	field(f.Account)
	field(byHost)
	field(cursor)
	return h.Sum(nil)
}
