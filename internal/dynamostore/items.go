package dynamostore

import (
	"fmt"
	"net/url"

	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/bondregistry/bond-registry/internal/bond"
)

// Attribute names of the table. The bond attributes are those of the FastAPI
// original; version and the guard attributes are ours.
const (
	attrBondID         = "bond_id"
	attrHostAccountID  = "host_account_id"
	attrSubAccountID   = "sub_account_id"
	attrHostCostCenter = "host_cost_center"
	attrSubCostCenter  = "sub_cost_center"
	attrSubscribers    = "subscribers"
	attrVersion        = "version"
	attrGuardOwner     = "guard_owner"
)

// guardPrefix starts the key of every guard item. Bond ids cannot contain
// '/', so no bond can ever have a guard's key.
const guardPrefix = "pair/"

// bondItem is a bond as stored: the original's layout plus version. An item
// written by the original has no version, which reads as 0.
type bondItem struct {
	BondID         string                    `dynamodbav:"bond_id"`
	HostAccountID  string                    `dynamodbav:"host_account_id"`
	SubAccountID   string                    `dynamodbav:"sub_account_id"`
	HostCostCenter string                    `dynamodbav:"host_cost_center"`
	SubCostCenter  string                    `dynamodbav:"sub_cost_center"`
	Subscribers    map[string]subscriberItem `dynamodbav:"subscribers"`
	Version        int64                     `dynamodbav:"version"`

	// GuardOwner is set only on guard items; reading it tells a guard that
	// slipped into a result from a bond.
	GuardOwner string `dynamodbav:"guard_owner,omitempty"`
}

// subscriberItem is one entry of the subscribers map, as the original stored it.
type subscriberItem struct {
	SID   string `dynamodbav:"sid"`
	Name  string `dynamodbav:"name"`
	Email string `dynamodbav:"email"`
}

// guardItem reserves one (host account, subscriber account) pair for the bond
// GuardOwner. It deliberately has none of the attributes the GSIs index, so
// it never appears in a Query on an index.
type guardItem struct {
	BondID     string `dynamodbav:"bond_id"` // guardKey(host, sub)
	GuardOwner string `dynamodbav:"guard_owner"`
	Host       string `dynamodbav:"guard_host"`
	Sub        string `dynamodbav:"guard_sub"`
}

// guardKey is the bond_id of the guard item of a pair. PathEscape escapes
// '/', so the two parts cannot run into each other.
func guardKey(host, sub string) string {
	return guardPrefix + url.PathEscape(host) + "/" + url.PathEscape(sub)
}

func newGuard(b bond.Bond) guardItem {
	return guardItem{BondID: guardKey(b.HostAccountID, b.SubAccountID), GuardOwner: b.BondID,
		Host: b.HostAccountID, Sub: b.SubAccountID}
}

// key is the primary key of the item with the given bond_id.
func key(id string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{attrBondID: &types.AttributeValueMemberS{Value: id}}
}

func toItem(b bond.Bond) bondItem {
	subs := make(map[string]subscriberItem, len(b.Subscribers))
	for k, s := range b.Subscribers {
		subs[k] = subscriberItem(s)
	}
	return bondItem{
		BondID: b.BondID, HostAccountID: b.HostAccountID, SubAccountID: b.SubAccountID,
		HostCostCenter: b.HostCostCenter, SubCostCenter: b.SubCostCenter,
		Subscribers: subs, Version: b.Version,
	}
}

func (it bondItem) toBond() bond.Bond {
	subs := make(map[string]bond.Subscriber, len(it.Subscribers))
	for k, s := range it.Subscribers {
		subs[k] = bond.Subscriber(s)
	}
	return bond.Bond{
		BondID: it.BondID, HostAccountID: it.HostAccountID, SubAccountID: it.SubAccountID,
		HostCostCenter: it.HostCostCenter, SubCostCenter: it.SubCostCenter,
		Subscribers: subs, Version: it.Version,
	}
}

// decodeBond reads a bond item; ok is false for a guard item.
func decodeBond(av map[string]types.AttributeValue) (b bond.Bond, ok bool, err error) {
	var it bondItem
	if err := attributevalue.UnmarshalMap(av, &it); err != nil {
		return bond.Bond{}, false, fmt.Errorf("decode bond item: %w", err)
	}
	if it.GuardOwner != "" {
		return bond.Bond{}, false, nil
	}
	return it.toBond(), true, nil
}

// guardOwner returns the owner of a guard item (ALL_OLD of a failed write).
func guardOwner(av map[string]types.AttributeValue) string {
	if s, ok := av[attrGuardOwner].(*types.AttributeValueMemberS); ok {
		return s.Value
	}
	return ""
}

// itemVersion reads the version of a raw item; a missing version is 0.
func itemVersion(av map[string]types.AttributeValue) int64 {
	var it struct {
		Version int64 `dynamodbav:"version"`
	}
	_ = attributevalue.UnmarshalMap(av, &it) // a malformed version reads as 0
	return it.Version
}

// versionIs is the condition "the stored version is v", where a missing
// version attribute (an item written by the original) counts as 0.
func versionIs(v int64) expression.ConditionBuilder {
	is := expression.Name(attrVersion).Equal(expression.Value(v))
	if v == 0 {
		return expression.Or(expression.AttributeNotExists(expression.Name(attrVersion)), is)
	}
	return is
}

// bumpVersion is the update operand "version + 1", reading a missing version
// as 0.
func bumpVersion() expression.SetValueBuilder {
	return expression.Plus(expression.IfNotExists(expression.Name(attrVersion), expression.Value(0)), expression.Value(1))
}

// exists is the condition "the bond item exists".
func exists() expression.ConditionBuilder {
	return expression.AttributeExists(expression.Name(attrBondID))
}

// subscriberPath is subscribers.<sid>, with the sid kept whole even if it
// contains dots.
func subscriberPath(sid string) expression.NameBuilder {
	return expression.Name(attrSubscribers).AppendName(expression.NameNoDotSplit(sid))
}
