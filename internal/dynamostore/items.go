package dynamostore

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"

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
// '/', so no bond the service writes can have a guard's key.
const guardPrefix = "pair/"

// bondItem is a bond as stored: the original's layout plus version.
type bondItem struct {
	bondAttrs
	Subscribers map[string]subscriberItem `dynamodbav:"subscribers"`
}

// bondAttrs are the attributes of a bond item but its subscribers, which
// decodeBond reads apart because other writers left them in other forms. An
// item written by the original has no version, which reads as 0.
type bondAttrs struct {
	BondID         string `dynamodbav:"bond_id"`
	HostAccountID  string `dynamodbav:"host_account_id"`
	SubAccountID   string `dynamodbav:"sub_account_id"`
	HostCostCenter string `dynamodbav:"host_cost_center"`
	SubCostCenter  string `dynamodbav:"sub_cost_center"`
	Version        int64  `dynamodbav:"version"`
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

// guardKey is the bond_id (partition key) of the guard item of a pair:
// "pair/" and the hex SHA-256 of the length-prefixed host and subscriber
// account ids. It is 69 bytes for every pair, so it fits DynamoDB's 2,048-byte
// partition key limit whatever the ids (two 128-character ids in 4-byte UTF-8
// and percent-escaped, the old form, could reach 3 KB); the length prefix
// keeps ("ab", "c") and ("a", "bc") apart. guard_host and guard_sub keep the
// pair readable.
func guardKey(host, sub string) string {
	h := sha256.New()
	h.Write(binary.AppendUvarint(nil, uint64(len(host))))
	h.Write([]byte(host))
	h.Write([]byte(sub))
	return guardPrefix + hex.EncodeToString(h.Sum(nil))
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
	return bondItem{bondAttrs: bondAttrs{
		BondID: b.BondID, HostAccountID: b.HostAccountID, SubAccountID: b.SubAccountID,
		HostCostCenter: b.HostCostCenter, SubCostCenter: b.SubCostCenter, Version: b.Version,
	}, Subscribers: subs}
}

// decodeBond reads a bond item; ok is false for a guard item. A bond that
// another writer left in a form the service cannot read is
// bond.ErrUnreadable, never a partial bond. The subscribers may be a map (as
// the service and the original write them), missing or NULL (none), or a
// list of subscriber maps (as some hand-written items hold them), read as
// the map keyed by their sids.
func decodeBond(av map[string]types.AttributeValue) (b bond.Bond, ok bool, err error) {
	id := ""
	if s, isS := av[attrBondID].(*types.AttributeValueMemberS); isS {
		id = s.Value
	}
	if _, guard := av[attrGuardOwner]; guard {
		return bond.Bond{}, false, nil
	}
	subs, err := decodeSubscribers(av[attrSubscribers])
	if err != nil {
		return bond.Bond{}, false, bond.ErrUnreadable(id, err.Error())
	}
	var it bondAttrs
	if err := attributevalue.UnmarshalMap(av, &it); err != nil {
		return bond.Bond{}, false, bond.ErrUnreadable(id, "an attribute has the wrong type")
	}
	if it.Version < 0 || it.Version > maxVersion {
		return bond.Bond{}, false, bond.ErrUnreadable(id, "version out of range")
	}
	b = bond.Bond{
		BondID: it.BondID, HostAccountID: it.HostAccountID, SubAccountID: it.SubAccountID,
		HostCostCenter: it.HostCostCenter, SubCostCenter: it.SubCostCenter,
		Subscribers: subs, Version: it.Version,
	}
	return b, true, nil
}

// maxVersion is the largest version the store reads: 2^53, where a
// DynamoDB number still converts exactly, and far from int64's end, so a
// version bump can never wrap (an item written by hand with a larger or
// negative version is refused, never served with a tag that could repeat).
const maxVersion = 1 << 53

// decodeSubscribers reads the subscribers attribute in any of the forms
// decodeBond takes.
func decodeSubscribers(av types.AttributeValue) (map[string]bond.Subscriber, error) {
	subs := map[string]bond.Subscriber{}
	switch v := av.(type) {
	case nil, *types.AttributeValueMemberNULL:
		return subs, nil
	case *types.AttributeValueMemberM:
		var items map[string]subscriberItem
		if err := attributevalue.Unmarshal(v, &items); err != nil {
			return nil, errors.New("subscribers: an entry is not a subscriber map")
		}
		for k, s := range items {
			subs[k] = bond.Subscriber(s)
		}
		return subs, nil
	case *types.AttributeValueMemberL:
		var items []subscriberItem
		if err := attributevalue.Unmarshal(v, &items); err != nil {
			return nil, errors.New("subscribers: a list entry is not a subscriber map")
		}
		for _, s := range items {
			if s.SID == "" {
				return nil, errors.New("subscribers: a list entry has no sid")
			}
			if _, dup := subs[s.SID]; dup {
				return nil, errors.New("subscribers: two list entries have the same sid")
			}
			subs[s.SID] = bond.Subscriber(s)
		}
		return subs, nil
	}
	return nil, errors.New("subscribers: neither a map nor a list")
}

// guardOwner returns the owner of a guard item (ALL_OLD of a failed write).
func guardOwner(av map[string]types.AttributeValue) string {
	if s, ok := av[attrGuardOwner].(*types.AttributeValueMemberS); ok {
		return s.Value
	}
	return ""
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

// sidName stands for a subscriber's sid in the expressions built for
// subscribers.<sid>: the expression builder parses '.' and '[n]' inside
// names (even NameNoDotSplit keeps '[n]' as a list index), so a sid must
// never reach it. The builder gets this placeholder, which it cannot
// misread, and withSID puts the sid in the expression attribute names
// after Build, so DynamoDB takes it as one name, whatever it holds.
const sidName = "sid_placeholder"

// subscriberPath is subscribers.<sid> with the sid as sidName (see withSID).
func subscriberPath() expression.NameBuilder {
	return expression.Name(attrSubscribers).AppendName(expression.NameNoDotSplit(sidName))
}

// withSID returns the expression attribute names of expr with sidName
// replaced by sid.
func withSID(expr expression.Expression, sid string) map[string]string {
	names := expr.Names()
	for k, v := range names {
		if v == sidName {
			names[k] = sid
		}
	}
	return names
}
