package config_test

import (
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bondregistry/bond-registry/internal/config"
)

func env(kv map[string]string) func(string) string {
	return func(k string) string { return kv[k] }
}

func TestLoad_Defaults(t *testing.T) {
	got, err := config.Load(nil, env(nil), io.Discard)
	require.NoError(t, err)
	assert.Equal(t, 5000, got.Port)
	assert.Equal(t, config.DefaultPort, got.Port)
	assert.Equal(t, config.StoreBolt, got.Store)
	assert.Equal(t, "data/bonds.db", got.BoltPath)
	assert.Equal(t, zerolog.InfoLevel, got.LogLevel)
	assert.Equal(t, "json", got.LogFormat)
	assert.Equal(t, 5*time.Second, got.RequestTimeout)
	assert.Equal(t, "bond", got.DynamoTable)
	assert.Empty(t, got.AWSRegion, "no default region: the AWS SDK's chain (shared config, profile) decides")
	assert.Contains(t, got.String(), `aws_region="from the AWS SDK's chain"`)
	assert.Empty(t, got.PageTokenKey)
}

func TestLoad_EnvAndFlags(t *testing.T) {
	got, err := config.Load([]string{"--port", "9000", "--log-format=console"}, env(map[string]string{
		"PORT": "7000", "STORE": "dynamodb", "REQUEST_TIMEOUT": "250ms", "LOG_LEVEL": "WARN",
		"DYNAMODB_ENDPOINT": "http://127.0.0.1:8000", "PAGE_TOKEN_KEY": strings.Repeat("ab", 16),
		"AWS_REGION": "eu-west-3",
	}), io.Discard)
	require.NoError(t, err)
	assert.Equal(t, 9000, got.Port, "a flag beats the environment")
	assert.Equal(t, config.StoreDynamoDB, got.Store)
	assert.Equal(t, "console", got.LogFormat)
	assert.Equal(t, 250*time.Millisecond, got.RequestTimeout)
	assert.Equal(t, zerolog.WarnLevel, got.LogLevel)
	assert.Equal(t, "http://127.0.0.1:8000", got.DynamoEndpoint)
	assert.Equal(t, "eu-west-3", got.AWSRegion)
	assert.Len(t, got.PageTokenKey, 16)
	assert.NotContains(t, got.String(), strings.Repeat("ab", 16), "the key is masked")
}

func TestLoad_BadValueNamesTheVariable(t *testing.T) {
	for name, tc := range map[string]struct {
		env  map[string]string
		args []string
		want string
	}{
		"port":          {env: map[string]string{"PORT": "eighty"}, want: "PORT="},
		"port range":    {env: map[string]string{"PORT": "70000"}, want: "PORT="},
		"store":         {env: map[string]string{"STORE": "mongo"}, want: "STORE="},
		"timeout":       {env: map[string]string{"REQUEST_TIMEOUT": "5"}, want: "REQUEST_TIMEOUT="},
		"negative":      {env: map[string]string{"REQUEST_TIMEOUT": "-1s"}, want: "REQUEST_TIMEOUT="},
		"level":         {env: map[string]string{"LOG_LEVEL": "loud"}, want: "LOG_LEVEL="},
		"format":        {env: map[string]string{"LOG_FORMAT": "xml"}, want: "LOG_FORMAT="},
		"endpoint":      {env: map[string]string{"DYNAMODB_ENDPOINT": "localhost:8000"}, want: "DYNAMODB_ENDPOINT="},
		"table":         {env: map[string]string{"DYNAMODB_TABLE": "ab"}, want: "DYNAMODB_TABLE="},
		"in flight":     {env: map[string]string{"MAX_IN_FLIGHT": "-1"}, want: "MAX_IN_FLIGHT="},
		"header bytes":  {env: map[string]string{"MAX_HEADER_BYTES": "10"}, want: "MAX_HEADER_BYTES="},
		"bool":          {env: map[string]string{"ALLOW_UNAUTHENTICATED": "yes please"}, want: "ALLOW_UNAUTHENTICATED="},
		"keys file":     {env: map[string]string{"API_KEYS_FILE": "/nonexistent/keys"}, want: "API_KEYS_FILE="},
		"flag":          {args: []string{"--port", "x"}, want: "--port="},
		"unknown flag":  {args: []string{"--nope"}, want: "nope"},
		"stray operand": {args: []string{"extra"}, want: `unexpected argument "extra"`},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := config.Load(tc.args, env(tc.env), io.Discard)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
			assert.NotContains(t, err.Error(), "\n", "one line")
		})
	}
}

// A malformed PAGE_TOKEN_KEY was printed in full in the start-up
// error. A secret's error names the variable and the rule, never the value.
func TestLoad_SecretErrorsDoNotEchoTheValue(t *testing.T) {
	secret := "brk_5ec2e7" + strings.Repeat("9f", 40) + "zz"
	hash := strings.Repeat("ab", 32)
	for name, tc := range map[string]struct {
		env  map[string]string
		want string
	}{
		"token key not hex": {map[string]string{"PAGE_TOKEN_KEY": secret}, "config: PAGE_TOKEN_KEY: must be at least 32 hex digits"},
		"token key short":   {map[string]string{"PAGE_TOKEN_KEY": "5ec2e7"}, "config: PAGE_TOKEN_KEY: must be at least 32 hex digits"},
		"api key in place of its hash": {map[string]string{"API_KEYS": "ci bonds:read " + secret},
			"config: API_KEYS: line 1: the hash of ci must be 64 hex digits"},
		"api key line": {map[string]string{"API_KEYS": secret}, "config: API_KEYS: line 1: want 3 fields"},
		"api key as the name": {map[string]string{"API_KEYS": secret + " bonds:read " + strings.Repeat("cd", 32)},
			"config: API_KEYS: line 1: a name must not start with brk_"},
		"duplicate name": {map[string]string{"API_KEYS": "ci bonds:read " + hash + ";ci bonds:write " + strings.Repeat("cd", 32)},
			"config: API_KEYS: the name ci is used by two keys (API_KEYS line 1, entry 1 and API_KEYS line 1, entry 2)"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := config.Load(nil, env(tc.env), io.Discard)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
			assert.NotContains(t, err.Error(), "5ec2e7")
			assert.NotContains(t, err.Error(), hash)
		})
	}
}

func TestLoad_APIKeysAndLimits(t *testing.T) {
	got, err := config.Load(nil, env(nil), io.Discard)
	require.NoError(t, err)
	assert.Equal(t, 0, got.APIKeys.Len())
	assert.False(t, got.AllowUnauthenticated)
	assert.False(t, got.PublicMetrics, "/metrics needs bonds:read by default")
	assert.True(t, got.PublicDocs, "the documents are open by default")
	assert.Equal(t, 128, got.MaxInFlight)
	assert.Equal(t, 32<<10, got.MaxHeaderBytes)

	file := filepath.Join(t.TempDir(), "keys")
	require.NoError(t, os.WriteFile(file, []byte("# ops\nci bonds:read "+strings.Repeat("ab", 32)+"\n"), 0o600))
	got, err = config.Load([]string{"--api-keys-file", file, "--max-in-flight=0"}, env(map[string]string{
		"API_KEYS":       "admin bonds:read,bonds:write " + strings.Repeat("cd", 32),
		"PUBLIC_METRICS": "true", "PUBLIC_DOCS": "false", "ALLOW_UNAUTHENTICATED": "1", "MAX_HEADER_BYTES": "8192",
	}), io.Discard)
	require.NoError(t, err)
	assert.Equal(t, 2, got.APIKeys.Len())
	assert.True(t, got.AllowUnauthenticated)
	assert.True(t, got.PublicMetrics)
	assert.False(t, got.PublicDocs)
	assert.Equal(t, 0, got.MaxInFlight)
	assert.Equal(t, 8192, got.MaxHeaderBytes)
	assert.Contains(t, got.String(), "api_keys=2 ")
	assert.NotContains(t, got.String(), strings.Repeat("cd", 32))
}

// writeKeysFile writes text to a keys file of the given mode and returns its
// path.
func writeKeysFile(t *testing.T, text string, mode os.FileMode) string {
	t.Helper()
	file := filepath.Join(t.TempDir(), "keys")
	require.NoError(t, os.WriteFile(file, []byte(text), 0o600))
	require.NoError(t, os.Chmod(file, mode)) // whatever the umask
	return file
}

// API_KEYS_FILE: a bad line is named by its line in the file (comments and
// blank lines counted); a file that holds no key, that others can write, or
// that is not a regular file stops the start.
func TestLoad_APIKeysFile(t *testing.T) {
	good := "ci bonds:read " + strings.Repeat("ab", 32) + "\n"
	for name, tc := range map[string]struct {
		text string
		mode os.FileMode
		want string
	}{
		"bad line 5":      {"# ops\n\n" + good + "# more\nbad bonds:read nothex\n", 0o600, ": line 5: the hash of bad must be 64 hex digits"},
		"no key":          {"# only comments\n\n", 0o600, ": holds no key"},
		"empty":           {"", 0o600, ": holds no key"},
		"group-writable":  {good, 0o620, "must not be writable by group or other users (mode 0620)"},
		"world-writable":  {good, 0o646, "must not be writable by group or other users (mode 0646)"},
		"key as the name": {"brk_ABCDEFGHIJKLMNOPQRSTUVWXYZ bonds:read " + strings.Repeat("ab", 32), 0o600, ": line 1: a name must not start with brk_"},
	} {
		t.Run(name, func(t *testing.T) {
			file := writeKeysFile(t, tc.text, tc.mode)
			_, err := config.Load(nil, env(map[string]string{"API_KEYS_FILE": file}), io.Discard)
			require.Error(t, err)
			assert.Contains(t, err.Error(), "API_KEYS_FILE=")
			assert.Contains(t, err.Error(), tc.want)
			assert.NotContains(t, err.Error(), "ABCDEFGHIJ")
		})
	}
	for _, mode := range []os.FileMode{0o400, 0o600, 0o640, 0o644, 0o444} {
		got, err := config.Load(nil, env(map[string]string{"API_KEYS_FILE": writeKeysFile(t, good, mode)}), io.Discard)
		require.NoError(t, err, "mode %04o", mode)
		assert.Equal(t, 1, got.APIKeys.Len())
	}
	_, err := config.Load(nil, env(map[string]string{"API_KEYS_FILE": t.TempDir()}), io.Discard)
	assert.ErrorContains(t, err, "must be a regular file")
	_, err = config.Load(nil, env(map[string]string{"API_KEYS": "# none; ;"}), io.Discard)
	assert.ErrorContains(t, err, "config: API_KEYS: holds no key")
}

// HOST is the listen address, 127.0.0.1 by default whatever the keys; an IP
// address (brackets allowed) or localhost. Without keys it must be
// loopback unless ALLOW_UNAUTHENTICATED.
func TestLoad_Host(t *testing.T) {
	keys := "ci bonds:read " + strings.Repeat("ab", 32)
	for _, tc := range []struct {
		env      map[string]string
		args     []string
		host     string
		loopback bool
	}{
		{nil, nil, "127.0.0.1", true},
		{map[string]string{"API_KEYS": keys}, nil, "127.0.0.1", true},
		{map[string]string{"API_KEYS": keys, "HOST": "0.0.0.0"}, nil, "0.0.0.0", false},
		{map[string]string{"HOST": "[::1]"}, nil, "::1", true},
		{map[string]string{"HOST": "LOCALHOST"}, nil, "LOCALHOST", true},
		{map[string]string{"HOST": "127.0.0.2"}, nil, "127.0.0.2", true},
		{map[string]string{"ALLOW_UNAUTHENTICATED": "true", "HOST": "127.0.0.1"}, []string{"--host", "::"}, "::", false},
	} {
		got, err := config.Load(tc.args, env(tc.env), io.Discard)
		require.NoError(t, err, "%v %v", tc.env, tc.args)
		assert.Equal(t, tc.host, got.Host)
		assert.Equal(t, tc.loopback, got.LoopbackHost())
		assert.Contains(t, got.String(), "host="+tc.host+" ")
	}
	_, err := config.Load(nil, func(k string) string { return map[string]string{"HOST": "example.com"}[k] }, io.Discard)
	assert.ErrorContains(t, err, `config: HOST="example.com": must be an IP address`)
	for env, want := range map[string]string{
		"0.0.0.0":  `config: HOST="0.0.0.0": without API keys the service serves local callers only`,
		"10.1.2.3": `config: HOST="10.1.2.3": without API keys`,
	} {
		c, err := config.Load(nil, func(k string) string { return map[string]string{"HOST": env}[k] }, io.Discard)
		require.NoError(t, err, "a command that does not listen takes it")
		assert.ErrorContains(t, c.CheckBind(), want)
	}
	c, err := config.Load(nil, func(k string) string { return map[string]string{"HOST": "0.0.0.0", "ALLOW_UNAUTHENTICATED": "true"}[k] }, io.Discard)
	require.NoError(t, err)
	assert.NoError(t, c.CheckBind())
}

// A duplicate name in API_KEYS_FILE alone was reported as one of
// "API_KEYS_FILE and API_KEYS": the error names the sources that are set.
func TestLoad_DuplicateKeyNamesItsSource(t *testing.T) {
	file := filepath.Join(t.TempDir(), "keys")
	require.NoError(t, os.WriteFile(file, []byte("ci bonds:read "+strings.Repeat("ab", 32)+"\nci bonds:write "+strings.Repeat("cd", 32)+"\n"), 0o600))
	_, err := config.Load([]string{"--api-keys-file", file}, env(nil), io.Discard)
	require.Error(t, err)
	assert.Equal(t, "config: API_KEYS_FILE: the name ci is used by two keys (API_KEYS_FILE line 1 and API_KEYS_FILE line 2)", err.Error())

	require.NoError(t, os.WriteFile(file, []byte("ci bonds:read "+strings.Repeat("ab", 32)+"\n"), 0o600))
	_, err = config.Load([]string{"--api-keys-file", file}, env(map[string]string{"API_KEYS": "ci bonds:write " + strings.Repeat("cd", 32)}), io.Discard)
	require.Error(t, err)
	assert.Equal(t, "config: API_KEYS_FILE and API_KEYS: the name ci is used by two keys (API_KEYS_FILE line 1 and API_KEYS line 1)", err.Error())
}

// `import --bolt-path X FILE` failed: the flags had to come after the
// file. LoadOperands takes them before and after, and "--" ends them.
func TestLoadOperands(t *testing.T) {
	for name, tc := range map[string]struct {
		args []string
		want []string
		err  string
	}{
		"none":         {args: []string{"--port", "81"}},
		"after":        {args: []string{"F", "--port", "81"}, want: []string{"F"}},
		"before":       {args: []string{"--port", "81", "F"}, want: []string{"F"}},
		"between":      {args: []string{"--port=81", "F", "--host", "127.0.0.1"}, want: []string{"F"}},
		"stdin":        {args: []string{"--port", "81", "-"}, want: []string{"-"}},
		"dashes":       {args: []string{"--port", "81", "--", "-F"}, want: []string{"-F"}},
		"two":          {args: []string{"F", "G"}, err: `unexpected argument "G"`},
		"two, flags":   {args: []string{"F", "--port", "81", "G"}, err: `unexpected argument "G"`},
		"dashes, two":  {args: []string{"--", "F", "G"}, err: `unexpected argument "G"`},
		"flag after 1": {args: []string{"F", "--nope"}, err: "nope"},
	} {
		t.Run(name, func(t *testing.T) {
			c, got, err := config.LoadOperands(tc.args, env(nil), io.Discard, 1)
			if tc.err != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tc.err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
			assert.Equal(t, 81, c.Port)
		})
	}
}
