package httpapi

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bondregistry/bond-registry/internal/bond"
)

// problems returns the problems of err as "loc|type" strings.
func problems(t *testing.T, err error) []string {
	t.Helper()
	require.Error(t, err)
	var e *bond.Error
	require.ErrorAs(t, err, &e)
	require.Equal(t, bond.KindInvalid, e.Kind)
	var got []string
	for _, p := range e.Problems {
		got = append(got, strings.Join(p.Loc, ".")+"|"+p.Type)
	}
	return got
}

const validBond = `{"bond_id":"ID007","host_account_id":"QYSS37952707405491","sub_account_id":"SQSY48031267772693",
 "host_cost_center":"teal","sub_cost_center":"yellow",
 "subscribers":{"rharper":{"sid":"rharper","name":"Richard Harper","email":"richharper@gmail.com"}}}`

func TestDecodeBond_OK(t *testing.T) {
	got, err := decodeBond([]byte(validBond))
	require.NoError(t, err)
	want := bond.Bond{BondID: "ID007", HostAccountID: "QYSS37952707405491", SubAccountID: "SQSY48031267772693",
		HostCostCenter: "teal", SubCostCenter: "yellow",
		Subscribers: map[string]bond.Subscriber{"rharper": {SID: "rharper", Name: "Richard Harper", Email: "richharper@gmail.com"}}}
	assert.Equal(t, want, got)
}

func TestDecodeBond_SubscribersOptional(t *testing.T) {
	got, err := decodeBond([]byte(`{"bond_id":"a","host_account_id":"h","sub_account_id":"s","host_cost_center":"c","sub_cost_center":"d"}`))
	require.NoError(t, err)
	assert.Empty(t, got.Subscribers)
}

func TestDecodeBond_Problems(t *testing.T) {
	long := strings.Repeat("x", bond.MaxIDLen+1)
	for name, tc := range map[string]struct {
		body string
		want []string
	}{
		"malformed":   {`{"bond_id":`, []string{"body|value_error.jsondecode"}},
		"empty":       {``, []string{"body|value_error.jsondecode"}},
		"trailing":    {`{}{}`, []string{"body|value_error.jsondecode"}},
		"array":       {`[]`, []string{"body|type_error.dict"}},
		"null body":   {`null`, []string{"body|type_error.none.not_allowed"}},
		"all missing": {`{}`, []string{"body.bond_id|value_error.missing", "body.host_account_id|value_error.missing", "body.sub_account_id|value_error.missing", "body.host_cost_center|value_error.missing", "body.sub_cost_center|value_error.missing"}},
		"every type is strict": {`{"bond_id":7,"host_account_id":true,"sub_account_id":["a"],"host_cost_center":null,"sub_cost_center":{},"subscribers":[]}`,
			[]string{"body.bond_id|type_error.str", "body.host_account_id|type_error.str", "body.sub_account_id|type_error.str", "body.host_cost_center|type_error.none.not_allowed", "body.sub_cost_center|type_error.str", "body.subscribers|type_error.dict"}},
		"all value problems at once": {`{"bond_id":"a/b","host_account_id":"","sub_account_id":" s","host_cost_center":"c\u0007","sub_cost_center":"` + long + `",
			"subscribers":{"bob":{"sid":"robert","name":"","email":"not-an-email"}}}`,
			[]string{"body.bond_id|value_error.str.slash", "body.host_account_id|value_error.any_str.min_length", "body.sub_account_id|value_error.str.whitespace",
				"body.host_cost_center|value_error.str.control_characters", "body.sub_cost_center|value_error.any_str.max_length",
				"body.subscribers.bob.name|value_error.any_str.min_length", "body.subscribers.bob.email|value_error.email", "body.subscribers.bob.sid|value_error.sid_mismatch"}},
		"type and value problems together": {`{"bond_id":1,"host_account_id":"","sub_account_id":"s","host_cost_center":"c","sub_cost_center":"d"}`,
			[]string{"body.bond_id|type_error.str", "body.host_account_id|value_error.any_str.min_length"}},
		"subscriber entry types": {`{"bond_id":"a","host_account_id":"h","sub_account_id":"s","host_cost_center":"c","sub_cost_center":"d",
			"subscribers":{"x":5,"y":{"sid":"y","name":2,"email":"y@example.com","age":3}}}`,
			[]string{"body.subscribers.x|type_error.dict", "body.subscribers.y.name|type_error.str", "body.subscribers.y.age|value_error.extra"}},
		"extra field": {`{"bond_id":"a","host_account_id":"h","sub_account_id":"s","host_cost_center":"c","sub_cost_center":"d","colour":"red"}`,
			[]string{"body.colour|value_error.extra"}},
		"display-name email": {`{"bond_id":"a","host_account_id":"h","sub_account_id":"s","host_cost_center":"c","sub_cost_center":"d",
			"subscribers":{"y":{"sid":"y","name":"Y","email":"Y <y@example.com>"}}}`, []string{"body.subscribers.y.email|value_error.email"}},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := decodeBond([]byte(tc.body))
			assert.Equal(t, tc.want, problems(t, err))
		})
	}
}

func TestDecodeBond_Limits(t *testing.T) {
	subs := make([]string, 0, bond.MaxSubscribers+1)
	for i := range bond.MaxSubscribers + 1 {
		sid := "s" + strings.Repeat("0", 6-len(itoa(i))) + itoa(i)
		subs = append(subs, `"`+sid+`":{"sid":"`+sid+`","name":"N","email":"n@example.com"}`)
	}
	body := `{"bond_id":"a","host_account_id":"h","sub_account_id":"s","host_cost_center":"c","sub_cost_center":"d","subscribers":{` + strings.Join(subs, ",") + `}}`
	assert.Equal(t, []string{"body.subscribers|value_error.subscribers.max_items"}, problems(t, errOf(decodeBond([]byte(body)))))

	// 1,000 subscribers with long names and emails do not fit one DynamoDB item.
	big := make([]string, 0, bond.MaxSubscribers)
	for i := range bond.MaxSubscribers {
		sid := strings.Repeat("s", 100) + itoa(i)
		big = append(big, `"`+sid+`":{"sid":"`+sid+`","name":"`+strings.Repeat("n", 250)+`","email":"`+strings.Repeat("e", 60)+`@example.com"}`)
	}
	body = `{"bond_id":"a","host_account_id":"h","sub_account_id":"s","host_cost_center":"c","sub_cost_center":"d","subscribers":{` + strings.Join(big, ",") + `}}`
	assert.Equal(t, []string{"body|value_error.bond_too_large"}, problems(t, errOf(decodeBond([]byte(body)))))
}

func TestDecodeUpdate(t *testing.T) {
	u, err := decodeUpdate([]byte(`{"bond_id":"X","host_cost_center":"red","subscribers":{}}`), "X")
	require.NoError(t, err)
	require.NotNil(t, u.HostCostCenter)
	assert.Equal(t, "red", *u.HostCostCenter)
	assert.Nil(t, u.HostAccountID)
	require.NotNil(t, u.Subscribers)
	assert.Empty(t, *u.Subscribers)

	_, err = decodeUpdate([]byte(`{"bond_id":"Y","sub_cost_center":""}`), "X")
	assert.Equal(t, []string{"body.bond_id|value_error.bond_id_mismatch", "body.sub_cost_center|value_error.any_str.min_length"}, problems(t, err))

	applied := u.Apply(bond.Bond{BondID: "X", HostCostCenter: "blue", SubCostCenter: "keep",
		Subscribers: map[string]bond.Subscriber{"a": {SID: "a"}}, Version: 3})
	assert.Equal(t, bond.Bond{BondID: "X", HostCostCenter: "red", SubCostCenter: "keep", Subscribers: map[string]bond.Subscriber{}, Version: 3}, applied)
}

func TestDecodeSubscriber(t *testing.T) {
	s, err := decodeSubscriber([]byte(`{"sid":"bob.smith","name":"Bob","email":"bob@example.com"}`))
	require.NoError(t, err)
	assert.Equal(t, bond.Subscriber{SID: "bob.smith", Name: "Bob", Email: "bob@example.com"}, s)

	_, err = decodeSubscriber([]byte(`{"sid":"","email":"bob","x":1}`))
	assert.Equal(t, []string{"body.name|value_error.missing", "body.x|value_error.extra", "body.sid|value_error.any_str.min_length", "body.email|value_error.email"}, problems(t, err))
}

func TestETag(t *testing.T) {
	assert.Equal(t, `"12"`, etag(12))
}

func errOf(_ bond.Bond, err error) error { return err }

func itoa(i int) string { return strings.TrimSpace(strings.Repeat(" ", 0) + fmtInt(i)) }

func fmtInt(i int) string {
	if i < 10 {
		return string(rune('0' + i))
	}
	return fmtInt(i/10) + string(rune('0'+i%10))
}

func TestRepeatedName(t *testing.T) {
	for in, want := range map[string]string{
		`{"a":1,"b":2}`: "",
		`{"a":1,"a":2}`: "a",
		` { "a" : {"a":1} , "b":[{"b":1}], "c":"a" } `: "",
		`{"a\"b":1,"a\"b":2}`:                          `a"b`,
		`{"a":1,"\u0061":2}`:                           "a",
		`{"x":"}","y":"{","x":null}`:                   "x",
		`{"k":[1,{"k":2}],"k":true}`:                   "k",
		`{}`:                                           "",
		`[]`:                                           "",
	} {
		var m map[string]json.RawMessage
		_ = json.Unmarshal([]byte(in), &m)
		assert.Equal(t, want != "", memberCount([]byte(in)) != len(m), "%s: a repeat shows in the count", in)
		assert.Equal(t, want, repeatedName([]byte(in)), in)
	}
	_, err := decodeBond([]byte(`{"bond_id":"A","bond_id":"B","host_account_id":"H","sub_account_id":"S","host_cost_center":"c","sub_cost_center":"d"}`))
	assert.Equal(t, []string{"body.bond_id|value_error.duplicate_key"}, problems(t, err))
	_, err = decodeBond([]byte(`{"bond_id":"A","host_account_id":"H","sub_account_id":"S","host_cost_center":"c","sub_cost_center":"d",` +
		`"subscribers":{"b":{"sid":"b","name":"B","email":"b@example.com"},"b":{"sid":"b","name":"C","email":"c@example.com","name":"D"}}}`))
	assert.ElementsMatch(t, []string{"body.subscribers.b|value_error.duplicate_key", "body.subscribers.b.name|value_error.duplicate_key"}, problems(t, err))
}
