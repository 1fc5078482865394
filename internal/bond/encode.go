package bond

import (
	"bytes"
	"encoding/json"
)

// The response bodies are encoding/json's encoding of these types, with HTML
// escaping off (the API answers JSON to programs, not HTML to browsers).
// A hand-written encoder was measured against it end to end (bondbench
// compare, README "Performance") and did not pay for itself.

// AppendJSON appends b as a JSON object to dst. Nil Subscribers is {}.
func (b Bond) AppendJSON(dst []byte) []byte {
	if b.Subscribers == nil {
		b.Subscribers = map[string]Subscriber{}
	}
	return appendJSON(dst, b)
}

// AppendJSON appends s as a JSON object to dst.
func (s Subscriber) AppendJSON(dst []byte) []byte { return appendJSON(dst, s) }

// AppendSubscribersJSON appends subs as a JSON object keyed by sid, keys
// sorted (encoding/json sorts map keys). Nil subs is {}.
func AppendSubscribersJSON(dst []byte, subs map[string]Subscriber) []byte {
	if subs == nil {
		subs = map[string]Subscriber{}
	}
	return appendJSON(dst, subs)
}

// appendJSON appends v encoded by encoding/json, without HTML escaping and
// without the Encoder's trailing newline. v is one of this package's types,
// strings all the way down, which always encode.
func appendJSON(dst []byte, v any) []byte {
	buf := bytes.NewBuffer(dst)
	enc := json.NewEncoder(buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		panic("bond: encode " + err.Error())
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
}
