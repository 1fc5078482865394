package main

import (
	"bytes"
	"encoding/json"
	"testing"

	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/smithy-go/logging"
	"github.com/rs/zerolog"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The attacker found a plain-text line of the AWS SDK among the JSON ones
// ("SDK 2026/11/30 ... WARN failed to discard remaining HTTP response
// body"): the SDK's lines now go through the service's logger.
func TestSDKLogger(t *testing.T) {
	var out bytes.Buffer
	log := zerolog.New(&out)
	var opts awsconfig.LoadOptions
	require.NoError(t, sdkLogger(log)(&opts))
	opts.Logger.Logf(logging.Warn, "failed to discard %d bytes", 7)
	var line map[string]any
	require.NoError(t, json.Unmarshal(out.Bytes(), &line), "one JSON line: %s", out.String())
	assert.Equal(t, "warn", line[zerolog.LevelFieldName])
	assert.Equal(t, "aws-sdk-go-v2", line["log.logger"])
	assert.Equal(t, "failed to discard 7 bytes", line[zerolog.MessageFieldName])
}
