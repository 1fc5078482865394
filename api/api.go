// Package api holds the Bond Registry's OpenAPI document, the source of truth
// for the HTTP contract, and serves it: as YAML, as JSON, and as a Swagger UI
// page whose assets are all embedded in the binary (the page works offline).
//
// Edit openapi.yaml by hand; the tests in this package check that it is a
// valid OpenAPI 3 document, and internal/openapicheck checks that the service's
// responses match it.
package api

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"fmt"
	"io/fs"
	"net/http"
	"strings"
	"sync"

	swaggerFiles "github.com/swaggo/files/v2"
	httpSwagger "github.com/swaggo/http-swagger/v2"
	"go.yaml.in/yaml/v3"
)

//go:embed openapi.yaml
var document []byte

// DocsPrefix is the path under which DocsHandler serves the Swagger UI.
const DocsPrefix = "/docs"

// SpecURL is the path the Swagger UI loads the document from; the server must
// serve JSON() there.
const SpecURL = "/openapi.json"

// YAML returns the OpenAPI document as written (api/openapi.yaml). The caller
// must not modify the returned slice.
func YAML() []byte { return document }

var jsonDoc = sync.OnceValues(func() ([]byte, error) { return yamlToJSON(document) })

// JSON returns the OpenAPI document converted to JSON, with the keys in the
// order they are written in the YAML so that the docs page lists operations in
// that order. It is converted once, at first use. The caller must not modify
// the returned slice.
//
// JSON panics if the embedded document is not valid YAML; the package's tests
// make sure it is.
func JSON() []byte {
	b, err := jsonDoc()
	if err != nil {
		panic(fmt.Sprintf("api: embedded openapi.yaml: %v", err))
	}
	return b
}

// DocsHandler serves the Swagger UI for the document under DocsPrefix:
// /docs and /docs/ redirect to /docs/index.html, and the page and its
// scripts, styles and icons come from the binary (github.com/swaggo/files/v2),
// never from another host, each under its exact name directly under /docs/
// (uiFile; doc.json is the document too); any other path is a 404. Every answer carries a Content-Security-Policy
// that allows nothing else (docsCSP) and X-Frame-Options: DENY. The page
// loads the document from SpecURL. The
// handler expects the full request path (mount it without stripping the
// prefix) and answers GET only.
func DocsHandler() http.Handler {
	ui := httpSwagger.Handler(
		httpSwagger.URL(SpecURL),
		httpSwagger.DeepLinking(true),
		httpSwagger.DocExpansion("list"),
		// validatorUrl is already null in http-swagger's page, so the UI
		// does not send the document to validator.swagger.io.
		httpSwagger.UIConfig(map[string]string{"displayRequestDuration": "true"}),
	)
	csp := docsCSP(ui)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Security-Policy", csp)
		w.Header().Set("X-Frame-Options", "DENY")
		p := r.URL.Path
		switch {
		case p == DocsPrefix || p == DocsPrefix+"/":
			http.Redirect(w, r, DocsPrefix+"/index.html", http.StatusFound)
			return
		case !strings.HasPrefix(p, DocsPrefix+"/"):
			http.NotFound(w, r)
			return
		}
		switch name := strings.TrimPrefix(r.URL.EscapedPath(), DocsPrefix+"/"); {
		case name == "doc.json":
			// http-swagger would read swag's registry here, which is
			// empty: a 500.
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write(JSON())
			return
		case !uiFile(name):
			// http-swagger serves the last segment of any path (so
			// /docs/a/b/index.html was the page), redirects a path ending
			// in "/" and answers any error of opening a file but "not
			// found" with a 500: it gets only the exact names of its files.
			http.NotFound(w, r)
			return
		}
		// http-swagger picks the file from RequestURI's last segment; give it
		// the bare path, so a query string or a handler-built request (empty
		// RequestURI) cannot confuse it.
		r2 := r.Clone(r.Context())
		r2.RequestURI = r.URL.EscapedPath()
		if r2.Method == http.MethodHead {
			// http-swagger answers GET only; net/http drops the body of a
			// HEAD answer itself (RFC 9110 §9.3.2).
			r2.Method = http.MethodGet
		}
		ui.ServeHTTP(w, r2)
	})
}

// uiFile reports whether name, the escaped path after DocsPrefix+"/", is
// exactly the name of a file of the Swagger UI, which http-swagger serves:
// its page (index.html, from its template) or a regular file at the root of
// its embedded files. A name with a "/", an escape or a dot segment is not.
func uiFile(name string) bool {
	if name == "index.html" {
		return true
	}
	if name == "" || strings.ContainsAny(name, "/%") || !fs.ValidPath(name) {
		return false
	}
	fi, err := fs.Stat(swaggerFiles.FS, name)
	return err == nil && fi.Mode().IsRegular()
}

// yamlToJSON converts a YAML document to JSON, keeping the order of mapping
// keys.
func yamlToJSON(data []byte) ([]byte, error) {
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		return nil, fmt.Errorf("parse yaml: %w", err)
	}
	var buf bytes.Buffer
	if err := writeJSON(&buf, &root); err != nil {
		return nil, fmt.Errorf("convert yaml to json: %w", err)
	}
	if !json.Valid(buf.Bytes()) {
		return nil, fmt.Errorf("convert yaml to json: produced invalid JSON")
	}
	return buf.Bytes(), nil
}

func writeJSON(buf *bytes.Buffer, n *yaml.Node) error {
	switch n.Kind {
	case yaml.DocumentNode:
		if len(n.Content) != 1 {
			return fmt.Errorf("line %d: want one document, have %d", n.Line, len(n.Content))
		}
		return writeJSON(buf, n.Content[0])
	case yaml.AliasNode:
		return writeJSON(buf, n.Alias)
	case yaml.MappingNode:
		buf.WriteByte('{')
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			if k.Kind != yaml.ScalarNode || k.Value == "<<" {
				return fmt.Errorf("line %d: mapping keys must be plain scalars", k.Line)
			}
			if i > 0 {
				buf.WriteByte(',')
			}
			key, _ := json.Marshal(k.Value) // a string always marshals
			buf.Write(key)
			buf.WriteByte(':')
			if err := writeJSON(buf, v); err != nil {
				return err
			}
		}
		buf.WriteByte('}')
		return nil
	case yaml.SequenceNode:
		buf.WriteByte('[')
		for i, v := range n.Content {
			if i > 0 {
				buf.WriteByte(',')
			}
			if err := writeJSON(buf, v); err != nil {
				return err
			}
		}
		buf.WriteByte(']')
		return nil
	case yaml.ScalarNode:
		var v any
		if err := n.Decode(&v); err != nil {
			return fmt.Errorf("line %d: %w", n.Line, err)
		}
		switch v.(type) {
		case nil, bool, int, int64, uint64, float64, string:
		default:
			// Timestamps and binary data have no JSON form: quote them in
			// the YAML.
			return fmt.Errorf("line %d: value %q decodes to %T, quote it", n.Line, n.Value, v)
		}
		b, err := json.Marshal(v)
		if err != nil {
			return fmt.Errorf("line %d: %w", n.Line, err)
		}
		buf.Write(b)
		return nil
	}
	return fmt.Errorf("line %d: unexpected yaml node kind %v", n.Line, n.Kind)
}
