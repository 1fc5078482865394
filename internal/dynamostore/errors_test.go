package dynamostore_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bondregistry/bond-registry/internal/bond"
	"github.com/bondregistry/bond-registry/internal/dynamostore"
	"github.com/bondregistry/bond-registry/localdb"
)

// fakeClient is a dynamostore.Client whose calls all return Err, wrapped the
// way the SDK wraps errors (smithy.OperationError), unless a Fn is set;
// DescribeTable describes the table of localdb/01-create-table.json unless
// DescribeTableFn is set.
type fakeClient struct {
	Err error

	GetItemFn            func(*dynamodb.GetItemInput) (*dynamodb.GetItemOutput, error)
	TransactWriteItemsFn func(*dynamodb.TransactWriteItemsInput) (*dynamodb.TransactWriteItemsOutput, error)
	DescribeTableFn      func(*dynamodb.DescribeTableInput) (*dynamodb.DescribeTableOutput, error)
	QueryFn              func(*dynamodb.QueryInput) (*dynamodb.QueryOutput, error)
}

var _ dynamostore.Client = (*fakeClient)(nil)

func (f *fakeClient) fail(op string) error {
	return &smithy.OperationError{ServiceID: "DynamoDB", OperationName: op, Err: f.Err}
}

func (f *fakeClient) GetItem(_ context.Context, in *dynamodb.GetItemInput, _ ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error) {
	if f.GetItemFn != nil {
		return f.GetItemFn(in)
	}
	return nil, f.fail("GetItem")
}

func (f *fakeClient) PutItem(context.Context, *dynamodb.PutItemInput, ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error) {
	return nil, f.fail("PutItem")
}

func (f *fakeClient) DescribeTimeToLive(context.Context, *dynamodb.DescribeTimeToLiveInput, ...func(*dynamodb.Options)) (*dynamodb.DescribeTimeToLiveOutput, error) {
	return nil, f.fail("DescribeTimeToLive")
}

func (f *fakeClient) UpdateTimeToLive(context.Context, *dynamodb.UpdateTimeToLiveInput, ...func(*dynamodb.Options)) (*dynamodb.UpdateTimeToLiveOutput, error) {
	return nil, f.fail("UpdateTimeToLive")
}

func (f *fakeClient) DeleteItem(context.Context, *dynamodb.DeleteItemInput, ...func(*dynamodb.Options)) (*dynamodb.DeleteItemOutput, error) {
	return nil, f.fail("DeleteItem")
}

func (f *fakeClient) UpdateItem(context.Context, *dynamodb.UpdateItemInput, ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error) {
	return nil, f.fail("UpdateItem")
}

func (f *fakeClient) TransactWriteItems(_ context.Context, in *dynamodb.TransactWriteItemsInput, _ ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error) {
	if f.TransactWriteItemsFn != nil {
		return f.TransactWriteItemsFn(in)
	}
	return nil, f.fail("TransactWriteItems")
}

func (f *fakeClient) Query(_ context.Context, in *dynamodb.QueryInput, _ ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error) {
	if f.QueryFn != nil {
		return f.QueryFn(in)
	}
	return nil, f.fail("Query")
}

func (f *fakeClient) Scan(context.Context, *dynamodb.ScanInput, ...func(*dynamodb.Options)) (*dynamodb.ScanOutput, error) {
	return nil, f.fail("Scan")
}

func (f *fakeClient) DescribeTable(_ context.Context, in *dynamodb.DescribeTableInput, _ ...func(*dynamodb.Options)) (*dynamodb.DescribeTableOutput, error) {
	if f.DescribeTableFn != nil {
		return f.DescribeTableFn(in)
	}
	create := localdb.CreateTableInput
	if strings.HasSuffix(aws.ToString(in.TableName), "_revisions") {
		create = localdb.RevisionsTableInput
	}
	def, err := create(aws.ToString(in.TableName))
	if err != nil {
		return nil, err
	}
	return &dynamodb.DescribeTableOutput{Table: dynamostore.Description(def)}, nil
}

func (f *fakeClient) CreateTable(context.Context, *dynamodb.CreateTableInput, ...func(*dynamodb.Options)) (*dynamodb.CreateTableOutput, error) {
	return nil, f.fail("CreateTable")
}

// calls runs every Repository method once against repo and returns the
// errors by method name.
func calls(ctx context.Context, repo bond.Repository) map[string]error {
	b := bond.Bond{BondID: "B1", HostAccountID: "H", SubAccountID: "S", HostCostCenter: "teal", SubCostCenter: "red"}
	sub := bond.Subscriber{SID: "bob", Name: "Bob", Email: "bob@example.com"}
	errs := map[string]error{}
	_, errs["Get"] = bond.Get(ctx, repo, "B1")
	_, errs["Create"] = bond.Create(ctx, repo, b)
	_, errs["Update"] = bond.UpdateBond(ctx, repo, "B1", bond.Update{SubCostCenter: aws.String("blue")}, bond.IfVersion(bond.AnyVersion))
	errs["Delete"] = bond.Delete(ctx, repo, "B1", bond.IfVersion(bond.AnyVersion))
	_, errs["PutSubscriber"] = bond.PutSubscriber(ctx, repo, "B1", sub, bond.IfVersion(bond.AnyVersion))
	_, errs["RemoveSubscriber"] = bond.RemoveSubscriber(ctx, repo, "B1", "bob", bond.IfVersion(bond.AnyVersion))
	_, errs["List"] = bond.ListPage(ctx, repo, bond.Filter{}, 10, "")
	_, errs["ListByHostCostCenter"] = bond.ListPage(ctx, repo, bond.Filter{CostCenter: "teal", ByHost: true}, 10, "")
	errs["Ping"] = repo.Ping(ctx)
	return errs
}

func TestStore_Unavailable(t *testing.T) {
	t.Parallel()
	for name, cause := range map[string]error{
		"Throttling":             &smithy.GenericAPIError{Code: "ThrottlingException", Message: "Rate exceeded"},
		"ProvisionedThroughput":  &types.ProvisionedThroughputExceededException{Message: aws.String("slow down")},
		"RequestLimitExceeded":   &smithy.GenericAPIError{Code: "RequestLimitExceeded"},
		"ConnectionRefused":      &net.OpError{Op: "dial", Net: "tcp", Err: errors.New("connect: connection refused")},
		"DeadlineExceeded":       context.DeadlineExceeded,
		"InternalServerError":    &types.InternalServerError{Message: aws.String("oops")},
		"TransactionConflict":    &types.TransactionCanceledException{CancellationReasons: []types.CancellationReason{{Code: aws.String("None")}, {Code: aws.String("TransactionConflict")}}},
		"TransactionThrottled":   &types.TransactionCanceledException{CancellationReasons: []types.CancellationReason{{Code: aws.String("ThrottlingError")}, {Code: aws.String("None")}}},
		"TransactionInProgress":  &smithy.GenericAPIError{Code: "TransactionInProgressException"},
		"TransactionConflictExc": &types.TransactionConflictException{Message: aws.String("conflict")},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			repo := dynamostore.New(&fakeClient{Err: cause}, "bond")
			for method, err := range calls(t.Context(), repo) {
				require.Error(t, err, method)
				got, want := bond.KindOf(err), bond.KindUnavailable
				assert.Equal(t, want, got, "%s: %v", method, err)
				var be *bond.Error
				if assert.ErrorAs(t, err, &be, method) {
					assert.NotContains(t, be.Message, "Rate exceeded", "the cause stays out of the client message")
				}
			}
		})
	}
}

func TestStore_InternalErrors(t *testing.T) {
	t.Parallel()
	cause := &smithy.GenericAPIError{Code: "AccessDeniedException", Message: "not allowed, request id 1234"}
	repo := dynamostore.New(&fakeClient{Err: cause}, "bond")
	for method, err := range calls(t.Context(), repo) {
		if method == "Ping" {
			// A store that cannot be used is not ready: Ping says unavailable.
			assert.Equal(t, bond.KindUnavailable, bond.KindOf(err), method)
			continue
		}
		require.Error(t, err, method)
		assert.Equal(t, bond.KindInternal, bond.KindOf(err), "%s: %v", method, err)
		assert.ErrorIs(t, err, cause, method)
	}
}

func TestStore_CreateReasons(t *testing.T) {
	t.Parallel()
	b := bond.Bond{BondID: "B2", HostAccountID: "H/1", SubAccountID: "S", HostCostCenter: "teal", SubCostCenter: "red"}
	failed := func(item map[string]types.AttributeValue) types.CancellationReason {
		return types.CancellationReason{Code: aws.String("ConditionalCheckFailed"), Item: item}
	}
	none := types.CancellationReason{Code: aws.String("None")}
	for name, tc := range map[string]struct {
		reasons []types.CancellationReason
		want    *bond.Error
	}{
		"IDExists": {
			reasons: []types.CancellationReason{failed(map[string]types.AttributeValue{"bond_id": &types.AttributeValueMemberS{Value: "B2"}}), none},
			want:    bond.ErrExists("B2"),
		},
		"IDExistsAndPairTaken": {
			reasons: []types.CancellationReason{failed(nil), failed(nil)},
			want:    bond.ErrExists("B2"),
		},
		"PairTaken": {
			reasons: []types.CancellationReason{none, failed(map[string]types.AttributeValue{
				"bond_id":     &types.AttributeValueMemberS{Value: "pair/H%2F1/S"},
				"guard_owner": &types.AttributeValueMemberS{Value: "OTHER"},
			})},
			want: bond.ErrPairTaken("H/1", "S", "OTHER"),
		},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			var got *dynamodb.TransactWriteItemsInput
			repo := dynamostore.New(&fakeClient{TransactWriteItemsFn: func(in *dynamodb.TransactWriteItemsInput) (*dynamodb.TransactWriteItemsOutput, error) {
				got = in
				return nil, &smithy.OperationError{Err: &types.TransactionCanceledException{CancellationReasons: tc.reasons}}
			}}, "bond")
			err := repo.Create(t.Context(), b, 0, bond.Journal{})
			var be *bond.Error
			require.ErrorAs(t, err, &be)
			assert.Equal(t, tc.want.Kind, be.Kind)
			assert.Equal(t, tc.want.Message, be.Message)
			require.Len(t, got.TransactItems, 3)
			guardKey := got.TransactItems[1].Put.Item["bond_id"].(*types.AttributeValueMemberS).Value
			assert.Equal(t, dynamostore.GuardKey("H/1", "S"), guardKey)
			assert.Regexp(t, "^pair/[0-9a-f]{64}$", guardKey, "a fixed-size key, whatever the ids")
		})
	}
}

// storedB1 is bond B1 at version 3 as the store holds it.
func storedB1() map[string]types.AttributeValue {
	return map[string]types.AttributeValue{
		"bond_id": &types.AttributeValueMemberS{Value: "B1"}, "host_account_id": &types.AttributeValueMemberS{Value: "H"},
		"sub_account_id": &types.AttributeValueMemberS{Value: "S"}, "host_cost_center": &types.AttributeValueMemberS{Value: "teal"},
		"sub_cost_center": &types.AttributeValueMemberS{Value: "red"}, "version": &types.AttributeValueMemberN{Value: "3"},
		"subscribers": &types.AttributeValueMemberM{Value: map[string]types.AttributeValue{}},
	}
}

// TestStore_WriteRefused is the case where the read succeeds and DynamoDB
// refuses the write for a reason other than a failed condition: throttling,
// a deadline, a validation error, an item over the size limit. Each maps to
// its kind on every write, whichever call met it (no panic on a cancelled
// transaction without reasons).
func TestStore_WriteRefused(t *testing.T) {
	t.Parallel()
	item := storedB1()
	for name, tc := range map[string]struct {
		cause error
		want  bond.Kind
	}{
		"Throttling":        {&smithy.GenericAPIError{Code: "ThrottlingException", Message: "Rate exceeded"}, bond.KindUnavailable},
		"DeadlineExceeded":  {context.DeadlineExceeded, bond.KindUnavailable},
		"ItemTooLarge":      {&smithy.GenericAPIError{Code: "ValidationException", Message: "Item size has exceeded the maximum allowed size"}, bond.KindInvalid},
		"Validation":        {&smithy.GenericAPIError{Code: "ValidationException", Message: "One or more parameter values were invalid"}, bond.KindInternal},
		"CancelledNoReason": {&types.TransactionCanceledException{Message: aws.String("cancelled")}, bond.KindInternal},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			repo := dynamostore.New(&fakeClient{Err: tc.cause, GetItemFn: func(*dynamodb.GetItemInput) (*dynamodb.GetItemOutput, error) {
				return &dynamodb.GetItemOutput{Item: item}, nil
			}}, "bond")
			ctx := t.Context()
			errs := map[string]error{}
			_, errs["update moving the pair"] = bond.UpdateBond(ctx, repo, "B1", bond.Update{SubAccountID: aws.String("S2")}, bond.Precondition{})
			_, errs["update keeping the pair"] = bond.UpdateBond(ctx, repo, "B1", bond.Update{SubCostCenter: aws.String("blue")}, bond.Precondition{})
			errs["delete"] = bond.Delete(ctx, repo, "B1", bond.Precondition{})
			_, errs["put subscriber"] = bond.PutSubscriber(ctx, repo, "B1", bond.Subscriber{SID: "bob", Name: "Bob", Email: "bob@example.com"}, bond.Precondition{})
			errs["create"] = repo.Create(ctx, bond.Bond{BondID: "B2", HostAccountID: "H2", SubAccountID: "S2"}, 0, bond.Journal{})
			for op, err := range errs {
				require.Error(t, err, op)
				assert.Equal(t, tc.want, bond.KindOf(err), "%s: %v", op, err)
			}
		})
	}
}

// TestStore_TransactionReasons injects, on every transactional write (a
// create, an update that moves the account pair, a delete), each
// cancellation reason DynamoDB documents at each item of the transaction,
// and checks the kind: a failed condition keeps its domain meaning (which
// depends on the item), every other reason gets what its single-item twin
// gets from an UpdateItem of the same bond.
func TestStore_TransactionReasons(t *testing.T) {
	t.Parallel()
	item := storedB1()
	writes := map[string]struct {
		items int // items of the transaction
		run   func(ctx context.Context, repo bond.Repository) error
		// cond is the kind of a failed condition on item i, once (a lost
		// race, or an old guard held by another bond, is retried and then
		// succeeds: no error).
		cond []bond.Kind
	}{
		"create": {3, func(ctx context.Context, repo bond.Repository) error {
			return repo.Create(ctx, bond.Bond{BondID: "B2", HostAccountID: "H2", SubAccountID: "S2"}, 0, bond.Journal{})
		}, []bond.Kind{bond.KindExists, bond.KindPairTaken, bond.KindUnavailable}}, // item 2: bond.ErrRace, the id had a life
		"update moving the pair": {4, func(ctx context.Context, repo bond.Repository) error {
			_, err := bond.UpdateBond(ctx, repo, "B1", bond.Update{SubAccountID: aws.String("S2")}, bond.Precondition{})
			return err
		}, []bond.Kind{-1, bond.KindPairTaken, bond.KindInternal, -1}}, // item 2, the revision, has no condition
		"delete": {4, func(ctx context.Context, repo bond.Repository) error {
			return bond.Delete(ctx, repo, "B1", bond.Precondition{})
		}, []bond.Kind{-1, bond.KindInternal, bond.KindInternal, -1}}, // items 1 and 2, the gone item and the revision, have no condition
	}
	reasons := map[string]string{ // code: message
		"ValidationError":                 "Item size has exceeded the maximum allowed size",
		"TransactionConflict":             "Transaction is ongoing for the item",
		"ProvisionedThroughputExceeded":   "The level of configured provisioned throughput for the table was exceeded",
		"ThrottlingError":                 "Throughput exceeds the current capacity for one or more global secondary indexes",
		"ItemCollectionSizeLimitExceeded": "Collection size exceeded",
	}
	twins := map[string]string{
		"ValidationError": "ValidationException", "TransactionConflict": "TransactionConflictException",
		"ProvisionedThroughputExceeded": "ProvisionedThroughputExceededException", "ThrottlingError": "ThrottlingException",
		"ItemCollectionSizeLimitExceeded": "ItemCollectionSizeLimitExceededException",
	}
	wantKind := map[string]bond.Kind{ // the contract (docs/api.md), besides the twin's
		"ValidationError": bond.KindInvalid, "TransactionConflict": bond.KindUnavailable, "ProvisionedThroughputExceeded": bond.KindUnavailable,
		"ThrottlingError": bond.KindUnavailable, "ItemCollectionSizeLimitExceeded": bond.KindUnavailable,
	}
	getItem := func(*dynamodb.GetItemInput) (*dynamodb.GetItemOutput, error) {
		return &dynamodb.GetItemOutput{Item: item}, nil
	}
	cancel := func(n, at int, code, msg string) error {
		rs := make([]types.CancellationReason, n)
		for i := range rs {
			rs[i] = types.CancellationReason{Code: aws.String("None")}
		}
		if at >= 0 {
			rs[at] = types.CancellationReason{Code: aws.String(code), Message: aws.String(msg)}
		}
		return &smithy.OperationError{ServiceID: "DynamoDB", OperationName: "TransactWriteItems",
			Err: &types.TransactionCanceledException{Message: aws.String("Transaction cancelled"), CancellationReasons: rs}}
	}
	for wname, w := range writes {
		for code, msg := range reasons {
			// the single-item twin: an UpdateItem of the same bond failing with the twin's code
			twin := dynamostore.New(&fakeClient{GetItemFn: getItem, Err: &smithy.GenericAPIError{Code: twins[code], Message: msg}}, "bond")
			_, twinErr := bond.UpdateBond(t.Context(), twin, "B1", bond.Update{SubCostCenter: aws.String("blue")}, bond.Precondition{})
			require.Equal(t, wantKind[code], bond.KindOf(twinErr), "twin of %s: %v", code, twinErr)
			for at := range w.items {
				repo := dynamostore.New(&fakeClient{GetItemFn: getItem,
					TransactWriteItemsFn: func(in *dynamodb.TransactWriteItemsInput) (*dynamodb.TransactWriteItemsOutput, error) {
						return nil, cancel(len(in.TransactItems), min(at, len(in.TransactItems)-1), code, msg)
					}}, "bond")
				err := w.run(t.Context(), repo)
				assert.Equal(t, bond.KindOf(twinErr), bond.KindOf(err), "%s, %s at item %d: %v", wname, code, at, err)
				require.Error(t, err)
			}
		}
		t.Run(wname+"/ValidationError of another cause", func(t *testing.T) {
			repo := dynamostore.New(&fakeClient{GetItemFn: getItem, TransactWriteItemsFn: func(in *dynamodb.TransactWriteItemsInput) (*dynamodb.TransactWriteItemsOutput, error) {
				return nil, cancel(len(in.TransactItems), 0, "ValidationError", "One or more parameter values were invalid")
			}}, "bond")
			assert.Equal(t, bond.KindInternal, bond.KindOf(w.run(t.Context(), repo)), "as UpdateItem's ValidationException of that cause")
		})
		t.Run(wname+"/None", func(t *testing.T) {
			repo := dynamostore.New(&fakeClient{GetItemFn: getItem, TransactWriteItemsFn: func(in *dynamodb.TransactWriteItemsInput) (*dynamodb.TransactWriteItemsOutput, error) {
				return nil, cancel(len(in.TransactItems), -1, "", "")
			}}, "bond")
			err := w.run(t.Context(), repo)
			assert.Equal(t, bond.KindInternal, bond.KindOf(err), "a cancellation that names no cause is unexplained: %v", err)
		})
		for at, kind := range w.cond {
			t.Run(fmt.Sprintf("%s/ConditionalCheckFailed at item %d", wname, at), func(t *testing.T) {
				calls := 0
				repo := dynamostore.New(&fakeClient{GetItemFn: getItem, TransactWriteItemsFn: func(in *dynamodb.TransactWriteItemsInput) (*dynamodb.TransactWriteItemsOutput, error) {
					calls++
					if calls > 1 {
						return &dynamodb.TransactWriteItemsOutput{}, nil
					}
					return nil, cancel(len(in.TransactItems), at, "ConditionalCheckFailed", "The conditional request failed")
				}}, "bond")
				err := w.run(t.Context(), repo)
				if kind < 0 {
					assert.NoError(t, err, "retried")
					assert.Equal(t, 2, calls)
					return
				}
				assert.Equal(t, kind, bond.KindOf(err), "%v", err)
				assert.Equal(t, 1, calls)
			})
		}
	}
}

// A table deleted while the service runs (the bond table or its revisions
// table) made every request a 500 for good, while /readyz said 503: the
// table check passed once and was never run again. A ResourceNotFoundException
// is now a 503 naming the table, and the calls describe the tables again.
func TestStore_TableDeletedWhileRunning(t *testing.T) {
	t.Parallel()
	for _, gone := range []string{"bond", "bond_revisions"} {
		t.Run(gone, func(t *testing.T) {
			t.Parallel()
			var mu sync.Mutex
			deleted, describes := false, 0
			f := &fakeClient{}
			f.DescribeTableFn = func(in *dynamodb.DescribeTableInput) (*dynamodb.DescribeTableOutput, error) {
				mu.Lock()
				defer mu.Unlock()
				describes++
				if deleted && aws.ToString(in.TableName) == gone {
					return nil, &types.ResourceNotFoundException{Message: aws.String("Requested resource not found")}
				}
				return (&fakeClient{}).DescribeTable(t.Context(), in)
			}
			repo := dynamostore.New(f, "bond")
			require.NoError(t, repo.CheckTable(t.Context()))

			mu.Lock()
			deleted, describes = true, 0
			f.Err = &types.ResourceNotFoundException{Message: aws.String("Requested resource not found")}
			mu.Unlock()
			for method, err := range calls(t.Context(), repo) {
				assert.Equal(t, bond.KindUnavailable, bond.KindOf(err), "%s: %v", method, err)
				var be *bond.Error
				if assert.ErrorAs(t, err, &be, method) {
					assert.Contains(t, be.Message, "table "+gone+": does not exist; create it with bond-registry migrate", method)
				}
			}
			mu.Lock()
			defer mu.Unlock()
			assert.Positive(t, describes, "the tables are described again")
		})
	}
}
