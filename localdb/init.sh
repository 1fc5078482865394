#!/usr/bin/env bash
# init.sh: (re)create the `bond` table on a local DynamoDB with the AWS CLI,
# load the sample data and show bond FOO, as the original README did.
#
# Usage: localdb/init.sh          (from any directory)
#
# Environment:
#   DYNAMODB_ENDPOINT  endpoint of DynamoDB Local (default http://localhost:8000)
#   AWS_REGION         region (default us-east-1)
#   AWS_CLI            AWS CLI binary (default aws; Debian: apt-get install awscli)
#
# The table is DELETED first when it exists. Every command gets dummy
# credentials local/local: DynamoDB Local accepts any secret but only an
# alphanumeric access key id (the old README's AWS_ACCESS_KEY_ID value is
# rejected with UnrecognizedClientException). The table name, `bond`, comes
# from 01-create-table.json and 02-load-data.json.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")"

ENDPOINT="${DYNAMODB_ENDPOINT:-http://localhost:8000}"
REGION="${AWS_REGION:-us-east-1}"
AWS_CLI="${AWS_CLI:-aws}"
TABLE=bond

command -v "$AWS_CLI" >/dev/null 2>&1 ||
	{ echo "init.sh: '$AWS_CLI' not found: install the AWS CLI (scripts/awscli.sh install, or apt-get install -y awscli)" >&2; exit 1; }

# ddb runs one `aws dynamodb` command against the local endpoint with the
# dummy credentials set for that command only.
ddb() {
	AWS_ACCESS_KEY_ID=local AWS_SECRET_ACCESS_KEY=local AWS_PAGER="" \
		"$AWS_CLI" dynamodb --endpoint-url "$ENDPOINT" --region "$REGION" "$@"
}

step() { printf '\n== %s\n' "$*"; }

step "endpoint $ENDPOINT, region $REGION"
AWS_MAX_ATTEMPTS=1 ddb list-tables --output text >/dev/null ||
	{ echo "init.sh: DynamoDB does not answer on $ENDPOINT (start it: scripts/dynamodb-local.sh start)" >&2; exit 1; }

for t in "$TABLE" "${TABLE}_revisions"; do
	if ddb describe-table --table-name "$t" >/dev/null 2>&1; then
		step "delete-table $t"
		ddb delete-table --table-name "$t" --query 'TableDescription.TableStatus' --output text
		ddb wait table-not-exists --table-name "$t"
	fi
done

step "create-table --cli-input-json file://01-create-table.json"
ddb create-table --cli-input-json file://01-create-table.json \
	--query 'TableDescription.[TableName, TableStatus]' --output text
ddb wait table-exists --table-name "$TABLE"

step "create-table --cli-input-json file://03-create-revisions-table.json"
ddb create-table --cli-input-json file://03-create-revisions-table.json \
	--query 'TableDescription.[TableName, TableStatus]' --output text
ddb wait table-exists --table-name "${TABLE}_revisions"

step "batch-write-item --request-items file://02-load-data.json"
unprocessed=$(ddb batch-write-item --request-items file://02-load-data.json \
	--query 'length(UnprocessedItems)' --output text)
if [[ $unprocessed != 0 ]]; then
	echo "init.sh: batch-write-item left unprocessed items for $unprocessed table(s)" >&2
	exit 1
fi
ddb scan --table-name "$TABLE" --select COUNT --query '[Count]' --output text |
	sed 's/^/items: /'

step "get-item bond_id=FOO"
ddb get-item --table-name "$TABLE" --key '{"bond_id": {"S": "FOO"}}' \
	--projection-expression 'bond_id, host_account_id, sub_account_id, host_cost_center, sub_cost_center' \
	--output json

step "query bond_id=FOO"
count=$(ddb query --table-name "$TABLE" \
	--key-condition-expression 'bond_id = :id' \
	--expression-attribute-values '{":id": {"S": "FOO"}}' \
	--query 'Count' --output text)
echo "items: $count"
if [[ $count != 1 ]]; then
	echo "init.sh: bond FOO not found after loading 02-load-data.json" >&2
	exit 1
fi
