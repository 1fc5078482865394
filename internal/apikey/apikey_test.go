package apikey_test

import (
	"crypto/sha256"
	"encoding/hex"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"

	"github.com/bondregistry/bond-registry/internal/apikey"
)

func hashOf(key string) string {
	h := sha256.Sum256([]byte(key))
	return hex.EncodeToString(h[:])
}

func TestParseAndLookup(t *testing.T) {
	text := "# readers\n" +
		"reporting bonds:read " + hashOf("k-read") + "\n\n" +
		"admin\tbonds:read,bonds:write\t" + hashOf("k-admin") + "; writer bonds:write " + hashOf("k-write")
	keys, err := apikey.Parse("test", text)
	require.NoError(t, err)
	require.Len(t, keys, 3)
	set, err := apikey.NewSet(keys)
	require.NoError(t, err)
	assert.Equal(t, 3, set.Len())

	for key, want := range map[string]struct {
		name        string
		read, write bool
	}{
		"k-read":  {"reporting", true, false},
		"k-admin": {"admin", true, true},
		"k-write": {"writer", false, true},
	} {
		k, ok := set.Lookup(key)
		require.True(t, ok, key)
		assert.Equal(t, want.name, k.Name)
		assert.Equal(t, want.read, k.Has(apikey.ScopeRead), key)
		assert.Equal(t, want.write, k.Has(apikey.ScopeWrite), key)
	}
	for _, wrong := range []string{"", "k-rea", "k-read ", "K-READ", hashOf("k-read")} {
		_, ok := set.Lookup(wrong)
		assert.False(t, ok, "%q", wrong)
	}
	var none *apikey.Set
	_, ok := none.Lookup("k-read")
	assert.False(t, ok)
	assert.Equal(t, 0, none.Len())
}

func TestParse_ErrorsNameTheRuleNotTheValue(t *testing.T) {
	secret := "brk_THISISAKEYPASTEDBYMISTAKE"
	for text, want := range map[string]string{
		"a bonds:read " + secret:                               "64 hex digits",
		"a bonds:read":                                         "3 fields",
		"a bonds:admin " + hashOf("x"):                         "scopes must be",
		"a bonds:read,bonds:read " + hashOf("x"):               "twice",
		"a/b bonds:read " + hashOf("x"):                        "name may hold only",
		secret + " " + secret:                                  "3 fields",
		strings.Repeat("n", 65) + " bonds:read " + hashOf("x"): "1-64 characters",
		// A key pasted into the NAME field: refused, never repeated.
		secret + " bonds:read " + hashOf("x"):                     "must not start with brk_",
		"BRK_THISISAKEYPASTEDBYMISTAKE bonds:read " + hashOf("x"): "must not start with brk_",
	} {
		_, err := apikey.Parse("test", text)
		require.Error(t, err, text)
		assert.Contains(t, err.Error(), want)
		assert.NotContains(t, err.Error(), secret)
		assert.NotContains(t, err.Error(), "THISISAKEY")
	}
}

func TestNewSet_RefusesDuplicates(t *testing.T) {
	keys, err := apikey.Parse("test", "a bonds:read "+hashOf("x")+"\na bonds:write "+hashOf("y"))
	require.NoError(t, err)
	_, err = apikey.NewSet(keys)
	assert.ErrorContains(t, err, "name a is used by two keys (test line 1 and test line 2)")

	keys, err = apikey.Parse("test", "a bonds:read "+hashOf("x")+"\nb bonds:write "+hashOf("x"))
	require.NoError(t, err)
	_, err = apikey.NewSet(keys)
	assert.ErrorContains(t, err, "same hash")
}

func TestGenerate(t *testing.T) {
	key, k, err := apikey.Generate("ci", []string{apikey.ScopeRead})
	require.NoError(t, err)
	assert.True(t, strings.HasPrefix(key, apikey.Prefix))
	assert.Len(t, key, len(apikey.Prefix)+26)
	assert.Equal(t, "ci bonds:read "+hashOf(key), k.Line())

	parsed, err := apikey.Parse("test", k.Line())
	require.NoError(t, err)
	set, err := apikey.NewSet(parsed)
	require.NoError(t, err)
	got, ok := set.Lookup(key)
	require.True(t, ok)
	assert.Equal(t, "ci", got.Name)

	other, _, err := apikey.Generate("ci", []string{apikey.ScopeRead})
	require.NoError(t, err)
	assert.NotEqual(t, key, other)

	_, _, err = apikey.Generate("ci", []string{"admin"})
	assert.Error(t, err)
	_, _, err = apikey.Generate("", []string{apikey.ScopeRead})
	assert.Error(t, err)
}

// Errors name the line as the file counts it: blank and comment lines are
// lines too (a bad line 5 was once reported as "key 3").
func TestParse_ErrorsNameTheFilesLine(t *testing.T) {
	good := "ci bonds:read " + hashOf("x")
	for text, want := range map[string]string{
		"# keys\n\n" + good + "\n# more\nbad bonds:read nothex": "line 5: ",
		"\r\n" + good + "\r\nbad\r\n":                           "line 3: ",
		good + ";bad bonds:read nothex":                         "line 1, entry 2: ",
		"# a comment; with a semicolon\nbad":                    "line 2: ",
	} {
		_, err := apikey.Parse("test", text)
		require.Error(t, err, "%q", text)
		assert.True(t, strings.HasPrefix(err.Error(), want), "%q: %v", text, err)
	}
	keys, err := apikey.Parse("test", "# a comment; with a semicolon\n"+good+"\r\n")
	require.NoError(t, err, "a comment is a comment whole, ';' and all")
	assert.Len(t, keys, 1)
}

// Generated names: a name is accepted exactly when it follows the alphabet
// and the length, and does not start with the key prefix in any case; an
// error never repeats the name.
func TestParse_NameRule(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		name := rapid.OneOf(
			rapid.StringMatching(`(?i:brk_)[A-Z2-7]{0,30}`),
			rapid.StringMatching(`[A-Za-z0-9._@-]{1,70}`),
			rapid.StringOfN(rapid.Rune(), 1, 70, -1),
		).Draw(t, "name")
		_, err := apikey.Parse("test", name+" bonds:read "+hashOf("x"))
		want := len(name) <= 64 && regexp.MustCompile(`^[A-Za-z0-9._@-]+$`).MatchString(name) &&
			!strings.HasPrefix(strings.ToLower(name), "brk_")
		if strings.ContainsAny(name, " \t\n\r\v\f;#\u0085\u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000") {
			return // not one field: the field count decides
		}
		if want {
			assert.NoError(t, err)
			return
		}
		require.Error(t, err)
		if len(name) > len(apikey.Prefix) { // shorter ones may be a word of the message
			assert.NotContains(t, err.Error(), name)
		}
	})
}
