// Package apikey holds the service's API keys: their names, scopes and
// SHA-256 hashes (the keys themselves are never stored), the text format of
// API_KEYS_FILE and API_KEYS, and the constant-time lookup of a presented
// key.
//
// The format is one key a line, three fields separated by spaces or tabs:
//
//	NAME SCOPES SHA256
//
// NAME is 1-64 characters of A-Z a-z 0-9 . _ @ -, never starting with
// Prefix (in any case: that is how keys start), and is what the access log
// shows (ECS user.name); SCOPES is a comma-separated list of ScopeRead and
// ScopeWrite; SHA256 is the 64 hex digits of the SHA-256 of the key. Blank
// lines and lines starting with # are skipped; ';' also separates entries
// within a line (API_KEYS, an environment variable, is one line). Every
// error names the line as the text counts it (blank and comment lines
// included), so that it is the line number of the file. `bond-registry
// keygen NAME SCOPES` prints a new key and its line.
package apikey

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"
)

// Scopes. A scope grants its routes only: a key that reads and writes has
// both.
const (
	ScopeRead  = "bonds:read"  // GET of bonds and subscribers
	ScopeWrite = "bonds:write" // POST, PUT, DELETE of bonds and subscribers
)

// Scopes lists every scope, in the order keygen's usage shows them.
var Scopes = []string{ScopeRead, ScopeWrite}

// Prefix starts every key that Generate makes, so that a key found in a
// file or a log is recognisable (secret scanners match on it).
const Prefix = "brk_"

const maxNameLen = 64

// Key is one configured API key: its name, scopes and the SHA-256 of the
// key.
type Key struct {
	Name   string
	Scopes []string
	hash   [sha256.Size]byte
	pos    string // where Parse read it: "API_KEYS_FILE line 5"; empty from Generate
}

// Has reports whether k grants scope.
func (k Key) Has(scope string) bool { return slices.Contains(k.Scopes, scope) }

// Line is k in the file format: "NAME SCOPES SHA256".
func (k Key) Line() string {
	return k.Name + " " + strings.Join(k.Scopes, ",") + " " + hex.EncodeToString(k.hash[:])
}

// Parse reads keys in the file format from text, which comes from source
// (a name for the errors of NewSet: "API_KEYS_FILE"). Its errors name the
// line ("line 5", or "line 1, entry 3" when a line holds several entries)
// and the rule broken, never the line's content (a key pasted by mistake in
// place of its hash or name must not reach a log).
func Parse(source, text string) ([]Key, error) {
	var keys []Key
	for i, line := range strings.Split(text, "\n") {
		if strings.HasPrefix(strings.TrimSpace(line), "#") {
			continue
		}
		entries := strings.Split(line, ";")
		for j, entry := range entries {
			entry = strings.TrimSpace(entry)
			if entry == "" {
				continue
			}
			pos := fmt.Sprintf("line %d", i+1)
			if len(entries) > 1 {
				pos += fmt.Sprintf(", entry %d", j+1)
			}
			k, err := parseLine(entry)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", pos, err)
			}
			k.pos = source + " " + pos
			keys = append(keys, k)
		}
	}
	return keys, nil
}

func parseLine(line string) (Key, error) {
	f := strings.Fields(line)
	if len(f) != 3 {
		return Key{}, fmt.Errorf("want 3 fields NAME SCOPES SHA256, got %d", len(f))
	}
	if err := checkName(f[0]); err != nil {
		return Key{}, err
	}
	scopes, err := ParseScopes(f[1])
	if err != nil {
		return Key{}, err
	}
	k := Key{Name: f[0], Scopes: scopes}
	if len(f[2]) != 2*sha256.Size {
		return Key{}, fmt.Errorf("the hash of %s must be 64 hex digits (the SHA-256 of the key, not the key)", f[0])
	}
	if _, err := hex.Decode(k.hash[:], []byte(f[2])); err != nil {
		return Key{}, fmt.Errorf("the hash of %s must be 64 hex digits (the SHA-256 of the key, not the key)", f[0])
	}
	return k, nil
}

// checkName applies the rules of a key's name: 1-64 characters of the
// alphabet, and not the look of a key. Its errors never repeat the name,
// which may be a key pasted into the wrong field.
func checkName(name string) error {
	if len(name) >= len(Prefix) && strings.EqualFold(name[:len(Prefix)], Prefix) {
		return fmt.Errorf("a name must not start with %s, as every key does (is this a key in place of the name?)", Prefix)
	}
	if name == "" || len(name) > maxNameLen {
		return fmt.Errorf("a name must be 1-%d characters", maxNameLen)
	}
	for _, r := range name {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("._@-", r)) {
			return fmt.Errorf("a name may hold only A-Z a-z 0-9 . _ @ -")
		}
	}
	return nil
}

// ParseScopes parses a comma-separated list of scopes: at least one, each
// one of Scopes, no repeats.
func ParseScopes(s string) ([]string, error) {
	var out []string
	for sc := range strings.SplitSeq(s, ",") {
		if !slices.Contains(Scopes, sc) {
			return nil, fmt.Errorf("scopes must be a comma-separated list of %s", strings.Join(Scopes, ", "))
		}
		if slices.Contains(out, sc) {
			return nil, fmt.Errorf("scope %s is listed twice", sc)
		}
		out = append(out, sc)
	}
	return out, nil
}

// Set is the configured keys, looked up by the key a request presents. The
// zero Set, and a nil *Set, hold no keys. A Set is read-only, so safe for
// concurrent use.
type Set struct{ keys []Key }

// NewSet returns the set of keys; names must be unique (they identify the
// caller in the log), and so must hashes.
func NewSet(keys []Key) (*Set, error) {
	for i, k := range keys {
		for _, o := range keys[:i] {
			if o.Name == k.Name {
				return nil, fmt.Errorf("the name %s is used by two keys (%s)", k.Name, positions(o, k))
			}
			if o.hash == k.hash {
				return nil, fmt.Errorf("keys %s and %s have the same hash (%s)", o.Name, k.Name, positions(o, k))
			}
		}
	}
	return &Set{keys: slices.Clone(keys)}, nil
}

// positions names where Parse read a and b: "API_KEYS_FILE line 2 and
// API_KEYS line 1".
func positions(a, b Key) string {
	pos := func(k Key) string {
		if k.pos == "" {
			return "generated"
		}
		return k.pos
	}
	return pos(a) + " and " + pos(b)
}

// Len is the number of keys.
func (s *Set) Len() int {
	if s == nil {
		return 0
	}
	return len(s.keys)
}

// Lookup returns the key whose hash is the SHA-256 of presented. It compares
// the hash with every configured one in constant time and always compares
// them all, so its timing says nothing about which bytes, or which key,
// matched.
func (s *Set) Lookup(presented string) (Key, bool) {
	if s == nil {
		return Key{}, false
	}
	h := sha256.Sum256([]byte(presented))
	found := -1
	for i := range s.keys {
		if subtle.ConstantTimeCompare(h[:], s.keys[i].hash[:]) == 1 {
			found = i
		}
	}
	if found < 0 {
		return Key{}, false
	}
	return s.keys[found], true
}

// Generate returns a new random key (Prefix and 26 base32 characters, 130
// bits from crypto/rand) and its Key, for name and scopes (checked as Parse
// does).
func Generate(name string, scopes []string) (string, Key, error) {
	if err := checkName(name); err != nil {
		return "", Key{}, err
	}
	if _, err := ParseScopes(strings.Join(scopes, ",")); err != nil {
		return "", Key{}, err
	}
	key := Prefix + rand.Text()
	return key, Key{Name: name, Scopes: slices.Clone(scopes), hash: sha256.Sum256([]byte(key))}, nil
}
