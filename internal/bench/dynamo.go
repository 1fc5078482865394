package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	vegeta "github.com/tsenart/vegeta/v12/lib"

	"github.com/bondregistry/bond-registry/internal/bond"
	"github.com/bondregistry/bond-registry/localdb"
)

// CreateTable creates table from the service's table definition
// (localdb/01-create-table.json) and waits until it is active.
func CreateTable(ctx context.Context, client *dynamodb.Client, table string) error {
	in, err := localdb.CreateTableInput(table)
	if err != nil {
		return fmt.Errorf("create table %s: %w", table, err)
	}
	if _, err := client.CreateTable(ctx, in); err != nil {
		return fmt.Errorf("create table %s: %w", table, err)
	}
	w := dynamodb.NewTableExistsWaiter(client)
	if err := w.Wait(ctx, &dynamodb.DescribeTableInput{TableName: &table}, 2*time.Minute); err != nil {
		return fmt.Errorf("create table %s: %w", table, err)
	}
	return nil
}

// DeleteTable deletes table (the bench's own, at the end of the run).
func DeleteTable(ctx context.Context, client *dynamodb.Client, table string) error {
	if _, err := client.DeleteTable(ctx, &dynamodb.DeleteTableInput{TableName: &table}); err != nil {
		return fmt.Errorf("delete table %s: %w", table, err)
	}
	return nil
}

// Load creates the bonds through repo.Create with workers goroutines (for
// DynamoDB: one transaction per bond with its pair guard, exactly as the
// service writes them; for bolt: writes coalesced by DB.Batch).
func Load(ctx context.Context, repo bond.Repository, bonds []bond.Bond, workers int) error {
	var (
		next     atomic.Int64
		wg       sync.WaitGroup
		mu       sync.Mutex
		firstErr error
	)
	for range workers {
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= len(bonds) || ctx.Err() != nil {
					return
				}
				if _, err := bond.Create(ctx, repo, bonds[i]); err != nil {
					mu.Lock()
					if firstErr == nil {
						firstErr = fmt.Errorf("load bond %d: %w", i, err)
					}
					mu.Unlock()
					return
				}
			}
		})
	}
	wg.Wait()
	if firstErr != nil {
		return firstErr
	}
	return ctx.Err()
}

// DirectTargets are the DynamoDB ceilings: aws-sdk-go-v2 calls made in the
// bench process, driven by vegeta like the HTTP scenarios. The calls run in
// an http.RoundTripper handed to vegeta as its client, so vegeta's workers,
// pacing and latency accounting are the same; each "request" is one SDK call.
type DirectTargets struct {
	Client *dynamodb.Client
	Table  string
	Bonds  int
	Prefix string

	seq atomic.Uint64
}

// directOp is one SDK call; the vegeta target's URL names it.
type directOp func(ctx context.Context) error

type directTransport struct{ ops map[string]directOp }

func (t directTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	op, ok := t.ops[req.URL.Path]
	if !ok {
		return nil, fmt.Errorf("direct: no operation %q", req.URL.Path)
	}
	res := &http.Response{StatusCode: http.StatusOK, Status: "200 OK", Body: io.NopCloser(strings.NewReader("")),
		Header: http.Header{}, Request: req, ProtoMajor: 1, ProtoMinor: 1}
	if err := op(req.Context()); err != nil {
		res.StatusCode, res.Status = http.StatusInternalServerError, "500 "+errorName(err)
	}
	return res, nil
}

// errorName shortens an SDK error to its API error code.
func errorName(err error) string {
	var api interface{ ErrorCode() string }
	if errors.As(err, &api) {
		return api.ErrorCode()
	}
	return err.Error()
}

// HTTPClient returns the client that vegeta uses for the direct scenarios.
func (d *DirectTargets) HTTPClient() *http.Client {
	return &http.Client{Transport: directTransport{ops: map[string]directOp{
		"/GetItem":            d.getItem,
		"/PutItem":            d.putItem,
		"/UpdateItem":         d.updateItem,
		"/TransactWriteItems": d.transactWriteItems,
	}}}
}

// Targeter returns the targeter of one operation: GetItem, PutItem,
// TransactWriteItems or UpdateItem.
func (d *DirectTargets) Targeter(op string) vegeta.Targeter {
	return func(tgt *vegeta.Target) error {
		*tgt = vegeta.Target{Method: http.MethodPost, URL: "http://direct.invalid/" + op}
		return nil
	}
}

// getItem is the store's read: a strongly consistent GetItem of a random
// existing bond, decoded.
func (d *DirectTargets) getItem(ctx context.Context) error {
	out, err := d.Client.GetItem(ctx, &dynamodb.GetItemInput{TableName: &d.Table, ConsistentRead: aws.Bool(true),
		Key: map[string]types.AttributeValue{"bond_id": &types.AttributeValueMemberS{Value: BondID(rand.IntN(d.Bonds))}}})
	if err != nil {
		return err
	}
	if out.Item == nil {
		return errors.New("NotFound")
	}
	var b storedBond
	return attributevalue.UnmarshalMap(out.Item, &b)
}

// putItem writes a new bond item with one conditional PutItem (no guard
// item, no transaction: the ceiling of a create).
func (d *DirectTargets) putItem(ctx context.Context) error {
	b := NewBond(rng(), d.Prefix, d.seq.Add(1))
	item, err := attributevalue.MarshalMap(toStored(b))
	if err != nil {
		return err
	}
	_, err = d.Client.PutItem(ctx, &dynamodb.PutItemInput{TableName: &d.Table, Item: item,
		ConditionExpression:      aws.String("attribute_not_exists(#id)"),
		ExpressionAttributeNames: map[string]string{"#id": "bond_id"}})
	return err
}

// transactWriteItems is the store's create: one TransactWriteItems of the
// bond item and its account-pair guard item, each conditioned on its key
// being free (the ceiling of a create that keeps the natural key unique).
func (d *DirectTargets) transactWriteItems(ctx context.Context) error {
	b := NewBond(rng(), d.Prefix, d.seq.Add(1))
	item, err := attributevalue.MarshalMap(toStored(b))
	if err != nil {
		return err
	}
	guard := map[string]types.AttributeValue{
		"bond_id":     &types.AttributeValueMemberS{Value: "pair/" + url.PathEscape(b.HostAccountID) + "/" + url.PathEscape(b.SubAccountID)},
		"guard_owner": &types.AttributeValueMemberS{Value: b.BondID},
		"guard_host":  &types.AttributeValueMemberS{Value: b.HostAccountID},
		"guard_sub":   &types.AttributeValueMemberS{Value: b.SubAccountID},
	}
	put := func(item map[string]types.AttributeValue) types.TransactWriteItem {
		return types.TransactWriteItem{Put: &types.Put{TableName: &d.Table, Item: item,
			ConditionExpression:                 aws.String("attribute_not_exists(#id)"),
			ExpressionAttributeNames:            map[string]string{"#id": "bond_id"},
			ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld}}
	}
	_, err = d.Client.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{
		TransactItems: []types.TransactWriteItem{put(item), put(guard)}})
	return err
}

// updateItem is the store's subscriber add: one UpdateItem setting
// subscribers.<sid> and bumping the version, conditioned on the bond
// existing, its map, and the subscriber cap, returning the new item.
func (d *DirectTargets) updateItem(ctx context.Context) error {
	s := NewSubscriber(rng(), d.Prefix, d.seq.Add(1))
	subs := expression.Name("subscribers")
	path := subs.AppendName(expression.NameNoDotSplit(s.SID))
	version := expression.Name("version")
	expr, err := expression.NewBuilder().
		WithUpdate(expression.Set(path, expression.Value(storedSubscriber(s))).
			Set(version, expression.Plus(expression.IfNotExists(version, expression.Value(0)), expression.Value(1)))).
		WithCondition(expression.And(expression.AttributeExists(expression.Name("bond_id")),
			expression.AttributeType(subs, expression.Map),
			expression.Or(expression.AttributeExists(path), subs.Size().LessThan(expression.Value(bond.MaxSubscribers))))).
		Build()
	if err != nil {
		return err
	}
	out, err := d.Client.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: &d.Table,
		Key:                       map[string]types.AttributeValue{"bond_id": &types.AttributeValueMemberS{Value: BondID(rand.IntN(d.Bonds))}},
		UpdateExpression:          expr.Update(),
		ConditionExpression:       expr.Condition(),
		ExpressionAttributeNames:  expr.Names(),
		ExpressionAttributeValues: expr.Values(),
		ReturnValues:              types.ReturnValueAllNew,
	})
	if err != nil {
		return err
	}
	var b storedBond
	return attributevalue.UnmarshalMap(out.Attributes, &b)
}

// storedBond mirrors the table's item layout (see internal/dynamostore).
type storedBond struct {
	BondID         string                      `dynamodbav:"bond_id"`
	HostAccountID  string                      `dynamodbav:"host_account_id"`
	SubAccountID   string                      `dynamodbav:"sub_account_id"`
	HostCostCenter string                      `dynamodbav:"host_cost_center"`
	SubCostCenter  string                      `dynamodbav:"sub_cost_center"`
	Subscribers    map[string]storedSubscriber `dynamodbav:"subscribers"`
	Version        int64                       `dynamodbav:"version"`
}

type storedSubscriber struct {
	SID   string `dynamodbav:"sid"`
	Name  string `dynamodbav:"name"`
	Email string `dynamodbav:"email"`
}

func toStored(b bond.Bond) storedBond {
	s := storedBond{BondID: b.BondID, HostAccountID: b.HostAccountID, SubAccountID: b.SubAccountID,
		HostCostCenter: b.HostCostCenter, SubCostCenter: b.SubCostCenter, Version: 1,
		Subscribers: map[string]storedSubscriber{}}
	for k, v := range b.Subscribers {
		s.Subscribers[k] = storedSubscriber(v)
	}
	return s
}
