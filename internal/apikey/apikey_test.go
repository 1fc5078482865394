package apikey_test

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

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
	keys, err := apikey.Parse(text)
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
	} {
		_, err := apikey.Parse(text)
		require.Error(t, err, text)
		assert.Contains(t, err.Error(), want)
		assert.NotContains(t, err.Error(), secret)
		assert.NotContains(t, err.Error(), "THISISAKEY")
	}
}

func TestNewSet_RefusesDuplicates(t *testing.T) {
	keys, err := apikey.Parse("a bonds:read " + hashOf("x") + "\na bonds:write " + hashOf("y"))
	require.NoError(t, err)
	_, err = apikey.NewSet(keys)
	assert.ErrorContains(t, err, "name a is used by two keys")

	keys, err = apikey.Parse("a bonds:read " + hashOf("x") + "\nb bonds:write " + hashOf("x"))
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

	parsed, err := apikey.Parse(k.Line())
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
