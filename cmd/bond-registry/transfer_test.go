package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bondregistry/bond-registry/internal/dynamotest"
)

// runEnv runs one command with env and returns its stdout and error.
func runEnv(t *testing.T, env map[string]string, args ...string) (string, error) {
	t.Helper()
	var out strings.Builder
	err := run(context.Background(), append([]string{"bond-registry"}, args...), func(k string) string { return env[k] }, &out, io.Discard)
	return out.String(), err
}

// export to stdout and to a file, import of that file into another store,
// and the exit status of an import with a refused line.
func TestRun_ExportImport(t *testing.T) {
	dir := t.TempDir()
	src := map[string]string{"BOLT_PATH": filepath.Join(dir, "src.db"), "LOG_LEVEL": "warn"}
	_, err := runEnv(t, src, "seed", "../../localdb/02-load-data.json")
	require.NoError(t, err)

	stdout, err := runEnv(t, src, "export")
	require.NoError(t, err)
	assert.Equal(t, 25, strings.Count(stdout, "\n"), "one line per bond, and no log line on stdout")
	file := filepath.Join(dir, "bonds.ndjson")
	_, err = runEnv(t, src, "export", file)
	require.NoError(t, err)
	data, err := os.ReadFile(file)
	require.NoError(t, err)
	assert.Equal(t, stdout, string(data))

	dst := map[string]string{"BOLT_PATH": filepath.Join(dir, "dst.db")}
	out, err := runEnv(t, dst, "import", file)
	require.NoError(t, err)
	assert.Contains(t, out, `"format":"ndjson"`)
	assert.Contains(t, out, `"created":25,"skipped":0,"refused":0`)
	again, err := runEnv(t, dst, "export")
	require.NoError(t, err)
	assert.Equal(t, stdout, again)

	bad := filepath.Join(dir, "bonds-bad.ndjson")
	lines := strings.SplitAfter(stdout, "\n")
	lines[6] = `{"bond_id":"NEW","host_account_id":"H","sub_account_id":"S","host_cost_center":"c","sub_cost_center":"d",` +
		`"subscribers":{"bob":{"sid":"bob","name":"Bob","email":"bob"}}}` + "\n"
	require.NoError(t, os.WriteFile(bad, []byte(strings.Join(lines, "")), 0o600))
	out, err = runEnv(t, dst, "import", bad)
	require.Error(t, err)
	assert.Equal(t, fmt.Sprintf("import %s: line 7: body.subscribers.bob.email: value is not a valid email address", bad), err.Error())
	assert.Contains(t, out, `"created":0,"skipped":24,"refused":1`)
	assert.Contains(t, out, `"reason":"exists with the same content"`)
}

// `import --bolt-path X FILE` failed with a usage line and `export
// --bolt-path X FILE` with "unexpected argument": the flags had to follow
// the file. They may come before or after it.
func TestRun_FlagsBeforeTheFile(t *testing.T) {
	dir := t.TempDir()
	src, dst, file := filepath.Join(dir, "src.db"), filepath.Join(dir, "dst.db"), filepath.Join(dir, "bonds.ndjson")
	none := map[string]string{"LOG_LEVEL": "warn"}
	_, err := runEnv(t, none, "seed", "--bolt-path", src, "../../localdb/02-load-data.json")
	require.NoError(t, err)
	_, err = runEnv(t, none, "export", "--bolt-path", src, file)
	require.NoError(t, err)
	_, err = runEnv(t, none, "import", "--bolt-path", dst, file, "--log-level", "warn")
	require.NoError(t, err)
	want, err := runEnv(t, none, "export", "--bolt-path", src)
	require.NoError(t, err)
	got, err := runEnv(t, none, "export", "-", "--bolt-path", dst)
	require.NoError(t, err)
	assert.Equal(t, 25, strings.Count(want, "\n"))
	assert.Equal(t, want, got)

	_, err = runEnv(t, none, "import", "--bolt-path", dst)
	assert.EqualError(t, err, "usage: bond-registry import FILE [flags]")
	_, err = runEnv(t, none, "import", "--bolt-path", dst, file, "other")
	assert.EqualError(t, err, `unexpected argument "other"`)
	_, err = runEnv(t, none, "export", "--bolt-path", src, file, "other")
	assert.EqualError(t, err, `unexpected argument "other"`)
}

// Moving a deployment: export from the embedded store, import into DynamoDB
// (DynamoDB Local), and the bonds are the same, representation for
// representation.
func TestRun_ExportBoltImportDynamoDB(t *testing.T) {
	client := dynamotest.Endpoint(t)
	t.Setenv("AWS_ACCESS_KEY_ID", "local") // the SDK's own credential chain reads these
	t.Setenv("AWS_SECRET_ACCESS_KEY", "local")
	dir := t.TempDir()
	bolt := map[string]string{"BOLT_PATH": filepath.Join(dir, "bonds.db"), "LOG_LEVEL": "warn"}
	_, err := runEnv(t, bolt, "seed", "../../localdb/02-load-data.json")
	require.NoError(t, err)
	file := filepath.Join(dir, "bonds.ndjson")
	_, err = runEnv(t, bolt, "export", file)
	require.NoError(t, err)

	dynamo := map[string]string{"STORE": "dynamodb", "DYNAMODB_ENDPOINT": aws.ToString(client.Options().BaseEndpoint),
		"DYNAMODB_TABLE": dynamotest.NewTable(t, client), "LOG_LEVEL": "warn"}
	_, err = runEnv(t, dynamo, "import", file)
	require.NoError(t, err)
	fromDynamo, err := runEnv(t, dynamo, "export")
	require.NoError(t, err)
	fromBolt, err := os.ReadFile(file)
	require.NoError(t, err)
	assert.ElementsMatch(t, strings.SplitAfter(string(fromBolt), "\n"), strings.SplitAfter(fromDynamo, "\n"),
		"the same representations (a scan's order is the table's)")
	assert.Equal(t, 25, strings.Count(fromDynamo, "\n"))
}
