package dynamostore_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bondregistry/bond-registry/internal/bond"
	"github.com/bondregistry/bond-registry/internal/dynamostore"
	"github.com/bondregistry/bond-registry/localdb"
)

// TestNewClient_Retries checks the retry policy of the service's client
// against a server that always answers with the same DynamoDB error: which
// errors are retried, that attempts are bounded, and what the store returns.
func TestNewClient_Retries(t *testing.T) {
	t.Parallel()
	const prefix = "com.amazonaws.dynamodb.v20120810#"
	for name, tc := range map[string]struct {
		body         string
		wantAttempts int64
		wantKind     bond.Kind
	}{
		"throttling is retried, then unavailable": {
			body:         `{"__type":"` + prefix + `ThrottlingException","message":"Rate exceeded"}`,
			wantAttempts: 3, wantKind: bond.KindUnavailable,
		},
		"transaction conflict is retried, then unavailable": {
			body: `{"__type":"` + prefix + `TransactionCanceledException","Message":"Transaction cancelled",` +
				`"CancellationReasons":[{"Code":"TransactionConflict"},{"Code":"None"}]}`,
			wantAttempts: 3, wantKind: bond.KindUnavailable,
		},
		"a failed condition is not retried": {
			body: `{"__type":"` + prefix + `TransactionCanceledException","Message":"Transaction cancelled",` +
				`"CancellationReasons":[{"Code":"ConditionalCheckFailed"},{"Code":"None"}]}`,
			wantAttempts: 1, wantKind: bond.KindExists,
		},
		"a validation error is not retried": {
			body:         `{"__type":"` + prefix + `ValidationException","message":"bad request"}`,
			wantAttempts: 1, wantKind: bond.KindInternal,
		},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			var attempts atomic.Int64
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/x-amz-json-1.0")
				if strings.HasSuffix(r.Header.Get("X-Amz-Target"), ".DescribeTable") {
					body, _ := io.ReadAll(r.Body)
					_, _ = w.Write(describeLocaldb(t, strings.Contains(string(body), "_revisions"))) // the table check passes: only the write fails
					return
				}
				attempts.Add(1)
				w.WriteHeader(http.StatusBadRequest)
				_, _ = w.Write([]byte(tc.body))
			}))
			t.Cleanup(srv.Close)
			client, err := dynamostore.NewClient(t.Context(), srv.URL, "us-east-1",
				config.WithCredentialsProvider(credentials.NewStaticCredentialsProvider("local", "local", "")))
			require.NoError(t, err)

			start := time.Now()
			err = dynamostore.New(client, "bond").Create(t.Context(), bond.Bond{BondID: "B", HostAccountID: "H", SubAccountID: "S"}, 0, bond.Journal{})
			require.Error(t, err)
			assert.Equal(t, tc.wantKind, bond.KindOf(err), "%v", err)
			got, want := attempts.Load(), tc.wantAttempts
			assert.Equal(t, want, got, "attempts")
			assert.Less(t, time.Since(start), time.Second, "backoff is capped")
		})
	}
}

// describeLocaldb is DescribeTable's answer, in the DynamoDB JSON protocol,
// for the table of localdb/01-create-table.json.
func describeLocaldb(t *testing.T, revisions bool) []byte {
	create, name := localdb.CreateTableInput, "bond"
	if revisions {
		create, name = localdb.RevisionsTableInput, "bond_revisions"
	}
	in, err := create(name)
	require.NoError(t, err)
	js, err := json.Marshal(map[string]any{"Table": dynamostore.Description(in)})
	require.NoError(t, err)
	return js
}

// TestNewClient_Region checks that an empty region is left to the SDK's
// chain (here the region of the profile in the shared config file), that a
// region given wins over it, and that no region at all is an error unless
// an endpoint (DynamoDB Local) is given.
func TestNewClient_Region(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "config")
	require.NoError(t, os.WriteFile(file, []byte("[profile far]\nregion = ap-southeast-2\n"), 0o600))
	t.Setenv("AWS_CONFIG_FILE", file)
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(dir, "credentials"))
	t.Setenv("AWS_PROFILE", "far")
	t.Setenv("AWS_REGION", "")
	t.Setenv("AWS_DEFAULT_REGION", "")
	static := config.WithCredentialsProvider(credentials.NewStaticCredentialsProvider("local", "local", ""))

	client, err := dynamostore.NewClient(t.Context(), "", "", static)
	require.NoError(t, err)
	assert.Equal(t, "ap-southeast-2", client.Options().Region, "the profile's region")

	client, err = dynamostore.NewClient(t.Context(), "", "eu-west-3", static)
	require.NoError(t, err)
	assert.Equal(t, "eu-west-3", client.Options().Region, "AWS_REGION set wins")

	t.Setenv("AWS_PROFILE", "")
	_, err = dynamostore.NewClient(t.Context(), "", "", static)
	require.Error(t, err, "no region anywhere, AWS's endpoint")
	assert.Contains(t, err.Error(), "AWS_REGION")
	_, err = dynamostore.NewClient(t.Context(), "http://127.0.0.1:8000", "", static)
	require.NoError(t, err, "no region, DynamoDB Local's endpoint")
}
