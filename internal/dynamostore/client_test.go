package dynamostore_test

import (
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bondregistry/bond-registry/internal/bond"
	"github.com/bondregistry/bond-registry/internal/dynamostore"
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
				attempts.Add(1)
				w.Header().Set("Content-Type", "application/x-amz-json-1.0")
				w.WriteHeader(http.StatusBadRequest)
				_, _ = w.Write([]byte(tc.body))
			}))
			t.Cleanup(srv.Close)
			client, err := dynamostore.NewClient(t.Context(), srv.URL, "us-east-1",
				config.WithCredentialsProvider(credentials.NewStaticCredentialsProvider("local", "local", "")))
			require.NoError(t, err)

			start := time.Now()
			err = dynamostore.New(client, "bond").Create(t.Context(), bond.Bond{BondID: "B", HostAccountID: "H", SubAccountID: "S"})
			require.Error(t, err)
			assert.Equal(t, tc.wantKind, bond.KindOf(err), "%v", err)
			got, want := attempts.Load(), tc.wantAttempts
			assert.Equal(t, want, got, "attempts")
			assert.Less(t, time.Since(start), time.Second, "backoff is capped")
		})
	}
}
