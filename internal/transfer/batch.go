package transfer

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/bondregistry/bond-registry/internal/bond"
)

// readBatchWriteItem reads a BatchWriteItem request file, {"<table>":
// [{"PutRequest": {"Item": {...}}}, ...], ...}, and calls fn with each item
// turned into the JSON of a POST /bonds body (itemBody), the line the
// request starts on and where it is ("bond[3]"). A request that is not a
// PutRequest with an Item comes with its problem instead. A file that is not
// such an object is an error naming the line.
func readBatchWriteItem(r io.Reader, fn func(line int, where string, body []byte, problem error) error) error {
	data, err := io.ReadAll(r)
	if err != nil {
		return fmt.Errorf("read: %w", err)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	lineAt := func(off int64) int {
		for off < int64(len(data)) && bytes.IndexByte([]byte(" \t\r\n,:"), data[off]) >= 0 {
			off++
		}
		return bytes.Count(data[:off], []byte("\n")) + 1
	}
	fail := func(err error) error {
		off := dec.InputOffset()
		if se, ok := errors.AsType[*json.SyntaxError](err); ok {
			off = se.Offset
		}
		return fmt.Errorf("line %d: a BatchWriteItem request is an object mapping each table name to an array of requests: %w", lineAt(off), err)
	}
	delim := func(want json.Delim) error {
		t, err := dec.Token()
		if err == nil && t != want {
			err = fmt.Errorf("found %v where %v belongs", t, want)
		}
		return err
	}
	if err := delim('{'); err != nil {
		return fail(err)
	}
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return fail(err)
		}
		table, _ := t.(string)
		if err := delim('['); err != nil {
			return fail(err)
		}
		for i := 0; dec.More(); i++ {
			line := lineAt(dec.InputOffset())
			var req struct {
				PutRequest *struct {
					Item map[string]json.RawMessage `json:"Item"`
				} `json:"PutRequest"`
			}
			if err := dec.Decode(&req); err != nil {
				return fail(err)
			}
			where := fmt.Sprintf("%s[%d]", table, i)
			var body []byte
			var problem error
			if req.PutRequest == nil || req.PutRequest.Item == nil {
				problem = bond.Invalid(bond.Problem{Loc: []string{"PutRequest", "Item"}, Type: "value_error.missing",
					Msg: "only a PutRequest with an Item is imported"})
			} else {
				body = itemBody(req.PutRequest.Item)
			}
			if err := fn(line, where, body, problem); err != nil {
				return err
			}
		}
		if err := delim(']'); err != nil {
			return fail(err)
		}
	}
	if err := delim('}'); err != nil {
		return fail(err)
	}
	return nil
}

// itemBody returns the JSON object of a DynamoDB JSON item with each
// attribute value as the API carries it (attrValue), for the request
// decoder to judge.
func itemBody(item map[string]json.RawMessage) []byte {
	obj := make(map[string]json.RawMessage, len(item))
	for name, v := range item {
		obj[name] = attrValue(v)
	}
	data, _ := json.Marshal(obj) // valid JSON in, valid JSON out
	return data
}

// attrValue returns the JSON value of a DynamoDB JSON attribute value: S as
// its string, M as an object (itemBody), NULL as null, BOOL as the boolean.
// Anything else (N, L, SS, B, ..., or no attribute value at all) becomes an
// array, a JSON type no field of a bond has, so that the decoder refuses it
// with its field's type rule, as it would in a request.
func attrValue(raw json.RawMessage) json.RawMessage {
	var av map[string]json.RawMessage
	if json.Unmarshal(raw, &av) == nil && len(av) == 1 {
		for typ, v := range av {
			switch typ {
			case "S", "BOOL":
				return v
			case "NULL":
				return json.RawMessage("null")
			case "M":
				var m map[string]json.RawMessage
				if json.Unmarshal(v, &m) == nil && m != nil {
					return itemBody(m)
				}
			}
		}
	}
	return append(append(json.RawMessage("["), raw...), ']')
}
