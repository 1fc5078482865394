package config_test

import (
	"io"
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
	assert.Equal(t, 8080, got.Port)
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
		"token key":     {env: map[string]string{"PAGE_TOKEN_KEY": "zz"}, want: "PAGE_TOKEN_KEY="},
		"short key":     {env: map[string]string{"PAGE_TOKEN_KEY": "abcd"}, want: "PAGE_TOKEN_KEY="},
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
