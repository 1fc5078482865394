package dynamostore

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"

	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/bondregistry/bond-registry/internal/bond"
)

// Attribute names of the table besides the bond's own (bond.BondID,
// bond.BondFields, bond.SubscribersName, which are the original service's):
// version and the attributes of guard and gone items are ours.
const (
	attrBondID         = "bond_id"
	attrHostAccountID  = "host_account_id"
	attrSubAccountID   = "sub_account_id"
	attrHostCostCenter = "host_cost_center"
	attrSubCostCenter  = "sub_cost_center"
	attrSubscribers    = bond.SubscribersName
	attrVersion        = "version"
	attrGuardOwner     = "guard_owner"
	attrGoneVersion    = "gone_version"
	attrGoneRevision   = "gone_revision"
	attrGoneBond       = "gone_bond"
	guardPrefix        = "pair/" // the key of every guard item
	gonePrefix         = "gone/" // the key of every gone item
)

// Bond ids cannot contain '/', so no bond the service writes can have the
// key of a guard item or a gone item.

// bondValue is a bond as one item: the declared fields as strings, version
// as a number, subscribers as a map of maps. It marshals itself
// (attributevalue.Marshaler), without reflection.
type bondValue bond.Bond

// MarshalDynamoDBAttributeValue returns the item of the bond.
func (b bondValue) MarshalDynamoDBAttributeValue() (types.AttributeValue, error) {
	item := make(map[string]types.AttributeValue, len(bond.BondFields)+3)
	item[bond.BondID.Name] = &types.AttributeValueMemberS{Value: b.BondID}
	for _, f := range bond.BondFields {
		item[f.Name] = &types.AttributeValueMemberS{Value: f.Get(bond.Bond(b))}
	}
	item[attrVersion] = &types.AttributeValueMemberN{Value: strconv.FormatInt(b.Version, 10)}
	item[attrRevision] = &types.AttributeValueMemberN{Value: strconv.FormatInt(b.Revision, 10)}
	item[attrSubscribers] = subscribersValue(b.Subscribers).av()
	return &types.AttributeValueMemberM{Value: item}, nil
}

// subscribersValue is a subscribers map as one attribute value.
type subscribersValue map[string]bond.Subscriber

func (m subscribersValue) av() *types.AttributeValueMemberM {
	av := make(map[string]types.AttributeValue, len(m))
	for k, s := range m {
		av[k] = subscriberValue(s).av()
	}
	return &types.AttributeValueMemberM{Value: av}
}

// MarshalDynamoDBAttributeValue returns the map of subscriber maps.
func (m subscribersValue) MarshalDynamoDBAttributeValue() (types.AttributeValue, error) {
	return m.av(), nil
}

// subscriberValue is one subscriber as a map of its declared fields.
type subscriberValue bond.Subscriber

func (s subscriberValue) av() *types.AttributeValueMemberM {
	av := make(map[string]types.AttributeValue, len(bond.SubscriberFields))
	for _, f := range bond.SubscriberFields {
		av[f.Name] = &types.AttributeValueMemberS{Value: f.Get(bond.Subscriber(s))}
	}
	return &types.AttributeValueMemberM{Value: av}
}

// MarshalDynamoDBAttributeValue returns the subscriber's map.
func (s subscriberValue) MarshalDynamoDBAttributeValue() (types.AttributeValue, error) {
	return s.av(), nil
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

// goneKey is the key of the gone item of bond id: it holds the last version
// of the id's previous life (gone_version) from a delete until the id is
// created again, so that versions, and so entity tags, never repeat.
func goneKey(id string) map[string]types.AttributeValue { return key(gonePrefix + id) }

// goneItem is the gone item of b, deleted at its version, after revision
// lastRevision.
func goneItem(b bond.Bond, lastRevision int64) map[string]types.AttributeValue {
	item := goneKey(b.BondID)
	item[attrGoneBond] = &types.AttributeValueMemberS{Value: b.BondID}
	item[attrGoneVersion] = &types.AttributeValueMemberN{Value: strconv.FormatInt(b.Version, 10)}
	if lastRevision > 0 {
		item[attrGoneRevision] = &types.AttributeValueMemberN{Value: strconv.FormatInt(lastRevision, 10)}
	}
	return item
}

// goneLife returns the last version and revision the gone item of bond id
// holds, 0 for none (a gone item written before history has no revision).
// An item that does not read is bond.ErrUnreadable, as a bond item would
// be: guessing a value could let a version repeat, or make every create of
// the id lose its race.
func goneLife(id string, item map[string]types.AttributeValue) (version, revision int64, err error) {
	if item == nil {
		return 0, 0, nil
	}
	v, err := readVersion(item[attrGoneVersion])
	if err != nil {
		return 0, 0, bond.ErrUnreadable(id, gonePrefix+id+": "+attrGoneVersion+": "+err.Error())
	}
	r := int64(0)
	if av, present := item[attrGoneRevision]; present {
		if r, err = readVersion(av); err != nil || r > bond.MaxRevision {
			return 0, 0, bond.ErrUnreadable(id, gonePrefix+id+": "+attrGoneRevision+": out of range")
		}
	}
	return v, r, nil
}

// decodeBond reads a bond item; ok is false for a guard, gone or
// idempotency record item. The
// item is held to the domain's rules (bond.CheckStored) as a request body
// is: an attribute missing or of the wrong type, or a value the rules
// refuse, makes it bond.ErrUnreadable, naming the bond and the attribute,
// never a partial bond. The subscribers may be a map (as the service and
// the original write them), missing or NULL (none), or a list of subscriber
// maps (as some hand-written items hold them), read as the map keyed by
// their sids. A missing version (an item of the original) reads as 0, as
// does a missing revision (a bond written before history). This
// is the one decoding path of items: reads, listings, the subscriber fast
// path and Migrate use it.
func decodeBond(av map[string]types.AttributeValue) (b bond.Bond, ok bool, err error) {
	if _, guard := av[attrGuardOwner]; guard {
		return bond.Bond{}, false, nil
	}
	if _, gone := av[attrGoneVersion]; gone {
		return bond.Bond{}, false, nil
	}
	if _, idem := av[attrIdemState]; idem {
		return bond.Bond{}, false, nil
	}
	id, err := readString(av, bond.BondID.Name)
	if err != nil {
		return bond.Bond{}, false, bond.ErrUnreadable(id, err.Error())
	}
	b.BondID = id
	for _, f := range bond.BondFields {
		if _, present := av[f.Name]; !present && f.Optional {
			continue
		}
		if *f.Of(&b), err = readString(av, f.Name); err != nil {
			return bond.Bond{}, false, bond.ErrUnreadable(id, err.Error())
		}
	}
	if v, present := av[attrVersion]; present {
		if b.Version, err = readVersion(v); err != nil {
			return bond.Bond{}, false, bond.ErrUnreadable(id, attrVersion+": "+err.Error())
		}
	}
	if v, present := av[attrRevision]; present {
		if b.Revision, err = readVersion(v); err != nil {
			return bond.Bond{}, false, bond.ErrUnreadable(id, attrRevision+": "+err.Error())
		}
	}
	if b.Subscribers, err = decodeSubscribers(av[attrSubscribers]); err != nil {
		return bond.Bond{}, false, bond.ErrUnreadable(id, err.Error())
	}
	if err := bond.CheckStored(b); err != nil {
		return bond.Bond{}, false, err
	}
	return b, true, nil
}

// readString returns the string attribute name of item; the error names the
// attribute and what is wrong with it, never its value.
func readString(item map[string]types.AttributeValue, name string) (string, error) {
	switch v := item[name].(type) {
	case *types.AttributeValueMemberS:
		return v.Value, nil
	case nil:
		return "", fmt.Errorf("%s: missing", name)
	}
	return "", fmt.Errorf("%s: not a string", name)
}

// readVersion reads a version number: a whole number from 0 to
// bond.MaxVersion.
func readVersion(av types.AttributeValue) (int64, error) {
	n, ok := av.(*types.AttributeValueMemberN)
	if !ok {
		return 0, errors.New("not a number")
	}
	v, err := strconv.ParseInt(n.Value, 10, 64)
	if err != nil || v < 0 || v > bond.MaxVersion {
		return 0, errors.New("out of range")
	}
	return v, nil
}

// decodeSubscribers reads the subscribers attribute in any of the forms
// decodeBond takes.
func decodeSubscribers(av types.AttributeValue) (map[string]bond.Subscriber, error) {
	subs := map[string]bond.Subscriber{}
	switch v := av.(type) {
	case nil, *types.AttributeValueMemberNULL:
		return subs, nil
	case *types.AttributeValueMemberM:
		for k, e := range v.Value {
			s, err := decodeSubscriber(e)
			if err != nil {
				return nil, fmt.Errorf("%s.%s%s", attrSubscribers, k, err)
			}
			subs[k] = s
		}
		return subs, nil
	case *types.AttributeValueMemberL:
		for i, e := range v.Value {
			s, err := decodeSubscriber(e)
			if err != nil {
				return nil, fmt.Errorf("%s[%d]%s", attrSubscribers, i, err)
			}
			if _, dup := subs[s.SID]; dup {
				return nil, fmt.Errorf("%s[%d]: a second entry with the same sid", attrSubscribers, i)
			}
			subs[s.SID] = s
		}
		return subs, nil
	}
	return nil, fmt.Errorf("%s: neither a map nor a list", attrSubscribers)
}

// decodeSubscriber reads one subscriber map; the error starts with ": " or
// "." and the attribute, to follow the subscriber's place.
func decodeSubscriber(av types.AttributeValue) (bond.Subscriber, error) {
	m, ok := av.(*types.AttributeValueMemberM)
	if !ok {
		return bond.Subscriber{}, errors.New(": not a map of subscriber attributes")
	}
	var s bond.Subscriber
	known := 0
	for _, f := range bond.SubscriberFields {
		if _, present := m.Value[f.Name]; !present && f.Optional {
			continue
		}
		v, err := readString(m.Value, f.Name)
		if err != nil {
			return bond.Subscriber{}, errors.New("." + err.Error())
		}
		*f.Of(&s) = v
		known++
	}
	if len(m.Value) > known {
		// A subscriber is written whole, so an attribute the service does
		// not know would be lost on the bond's next change; a request body
		// with it would be refused (extra fields not permitted).
		for _, k := range slices.Sorted(maps.Keys(m.Value)) {
			if !slices.ContainsFunc(bond.SubscriberFields, func(f bond.Field[bond.Subscriber]) bool { return f.Name == k }) {
				return bond.Subscriber{}, fmt.Errorf(".%s: an attribute the service does not know", k)
			}
		}
	}
	return s, nil
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

// exists is the condition "the bond item exists".
func exists() expression.ConditionBuilder {
	return expression.AttributeExists(expression.Name(attrBondID))
}
