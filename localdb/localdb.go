// Package localdb holds the DynamoDB table definitions of the service,
// 01-create-table.json (the bonds) and 03-create-revisions-table.json (their
// revisions), in the AWS CLI `create-table --cli-input-json`
// format, so that the AWS CLI (localdb/init.sh), `bond-registry migrate` and
// the tests all create the very same table.
package localdb

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
)

// TableDefinition is the content of 01-create-table.json. Callers must not
// modify it.
//
//go:embed 01-create-table.json
var TableDefinition []byte

// RevisionsTableDefinition is the content of 03-create-revisions-table.json:
// the table of the bonds' revisions (hash key bond_id, range key revision).
// Callers must not modify it.
//
//go:embed 03-create-revisions-table.json
var RevisionsTableDefinition []byte

// RevisionsTableInput is CreateTableInput for RevisionsTableDefinition.
func RevisionsTableInput(table string) (*dynamodb.CreateTableInput, error) {
	return ParseCreateTable(RevisionsTableDefinition, table)
}

// CreateTableInput parses TableDefinition into a CreateTableInput and, when
// table is not empty, replaces its TableName with table (tests use a unique
// name per test; the service uses its configured table name).
func CreateTableInput(table string) (*dynamodb.CreateTableInput, error) {
	return ParseCreateTable(TableDefinition, table)
}

// ParseCreateTable parses a table definition in the AWS CLI
// `create-table --cli-input-json` format (the member names of the
// CreateTable API: TableName, AttributeDefinitions, KeySchema, BillingMode,
// GlobalSecondaryIndexes, ...) into a CreateTableInput. Unknown members are
// an error, so that a typo does not silently drop an index. When table is
// not empty it replaces the TableName of the definition.
func ParseCreateTable(def []byte, table string) (*dynamodb.CreateTableInput, error) {
	var in dynamodb.CreateTableInput
	dec := json.NewDecoder(bytes.NewReader(def))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&in); err != nil {
		return nil, fmt.Errorf("parse table definition: %w", err)
	}
	if dec.More() {
		return nil, errors.New("parse table definition: data after the JSON object")
	}
	if table != "" {
		in.TableName = aws.String(table)
	}
	if aws.ToString(in.TableName) == "" {
		return nil, errors.New("parse table definition: no TableName")
	}
	if len(in.KeySchema) == 0 {
		return nil, errors.New("parse table definition: no KeySchema")
	}
	return &in, nil
}
