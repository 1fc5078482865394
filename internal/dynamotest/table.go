package dynamotest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/bondregistry/bond-registry/localdb"
)

// tableTimeout bounds creating a table and waiting until it is active.
const tableTimeout = time.Minute

// NewTable creates a table with a unique name ("bond_test_" and random hex)
// from localdb/01-create-table.json and its revisions table (the name and
// "_revisions", localdb/03-create-revisions-table.json), waits until the
// tables and indexes are ACTIVE, and deletes them when tb ends. It returns
// the table name.
func NewTable(tb testing.TB, client *dynamodb.Client) string {
	tb.Helper()
	name, err := uniqueName("bond_test_")
	if err != nil {
		tb.Fatalf("dynamotest: %v", err)
	}
	in, err := localdb.CreateTableInput(name)
	if err != nil {
		tb.Fatalf("dynamotest: %v", err)
	}
	createTable(tb, client, in)
	revs, err := localdb.RevisionsTableInput(name + "_revisions")
	if err != nil {
		tb.Fatalf("dynamotest: %v", err)
	}
	createTable(tb, client, revs)
	return name
}

// createTable creates the table of in, waits until it is ACTIVE, and
// deletes it when tb ends.
func createTable(tb testing.TB, client *dynamodb.Client, in *dynamodb.CreateTableInput) {
	tb.Helper()
	name := aws.ToString(in.TableName)

	ctx, cancel := context.WithTimeout(tb.Context(), tableTimeout)
	defer cancel()
	if _, err := client.CreateTable(ctx, in); err != nil {
		tb.Fatalf("dynamotest: create table %s: %v", name, err)
	}
	tb.Cleanup(func() {
		// tb.Context() is already cancelled when cleanups run.
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		_, err := client.DeleteTable(ctx, &dynamodb.DeleteTableInput{TableName: aws.String(name)})
		var nf *types.ResourceNotFoundException
		if err != nil && !errors.As(err, &nf) {
			tb.Errorf("dynamotest: delete table %s: %v", name, err)
		}
	})
	if err := waitActive(ctx, client, name); err != nil {
		tb.Fatalf("dynamotest: %v", err)
	}
}

// waitActive polls DescribeTable until the table and all its global
// secondary indexes are ACTIVE (at once on DynamoDB Local).
func waitActive(ctx context.Context, client *dynamodb.Client, name string) error {
	delay := 50 * time.Millisecond
	for {
		out, err := client.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(name)})
		if err != nil {
			return fmt.Errorf("wait for table %s: %w", name, err)
		}
		if active(out.Table) {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("wait for table %s to be ACTIVE (status %s): %w", name, out.Table.TableStatus, ctx.Err())
		case <-time.After(delay):
		}
		delay = min(2*delay, time.Second)
	}
}

func active(t *types.TableDescription) bool {
	if t == nil || t.TableStatus != types.TableStatusActive {
		return false
	}
	for _, g := range t.GlobalSecondaryIndexes {
		if g.IndexStatus != types.IndexStatusActive {
			return false
		}
	}
	return true
}

// uniqueName returns prefix followed by 16 random hex digits.
func uniqueName(prefix string) (string, error) {
	b := make([]byte, 8)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("random table name: %w", err)
	}
	return prefix + hex.EncodeToString(b), nil
}
