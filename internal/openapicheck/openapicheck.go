// Package openapicheck checks HTTP exchanges against the OpenAPI document
// (api/openapi.yaml), for tests: plug Validator.Check into a test client, and
// every response the service gives is held to the document.
//
// A response fails the check when its status is not documented for its
// operation, when a documented header is missing or malformed, when it
// carries a header the document does not mention (transport headers such as
// Content-Length aside), or when its body does not match the schema (extra
// fields included: the schemas forbid them). A request the service accepted
// (2xx or 304) must also be valid by the document; requests it refused are
// not checked, since tests send invalid requests on purpose.
package openapicheck

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/mail"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/legacy"

	"github.com/bondregistry/bond-registry/api"
)

// transportHeaders may appear on any response without being documented:
// they belong to HTTP, not to the API.
var transportHeaders = []string{
	"Accept-Ranges", "Cache-Control", "Connection", "Content-Encoding", "Content-Length",
	"Content-Type", "Date", "Keep-Alive", "Transfer-Encoding", "Vary", "X-Content-Type-Options",
	"X-Frame-Options", "Content-Security-Policy",
}

// methods are the methods tried to tell a 404 path from a 405 method.
var methods = []string{
	http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut,
	http.MethodPatch, http.MethodDelete, http.MethodOptions,
}

// Validator holds the loaded document and its router. It is safe for
// concurrent use.
type Validator struct {
	doc     *openapi3.T
	router  routers.Router
	formats []openapi3.SchemaValidationOption
	// unrouted are the answers to requests the document has no operation
	// for, by status: components/responses RouteNotFound (404) and
	// MethodNotAllowed (405, with Allow).
	unrouted map[int]*openapi3.Response
}

// New loads and validates api.YAML() and returns a Validator for it. It fails
// the test if the document is invalid.
func New(t testing.TB) *Validator {
	t.Helper()
	v, err := newValidator(api.YAML())
	if err != nil {
		t.Fatalf("openapicheck: %v", err)
	}
	return v
}

func newValidator(data []byte) (*Validator, error) {
	doc, err := openapi3.NewLoader().LoadFromData(data)
	if err != nil {
		return nil, fmt.Errorf("load openapi document: %w", err)
	}
	router, err := legacy.NewRouter(doc) // validates the document first
	if err != nil {
		return nil, fmt.Errorf("route openapi document: %w", err)
	}
	unrouted := map[int]*openapi3.Response{}
	for status, name := range map[int]string{http.StatusNotFound: "RouteNotFound", http.StatusMethodNotAllowed: "MethodNotAllowed"} {
		r := doc.Components.Responses[name]
		if r == nil || r.Value == nil || r.Value.Content.Get("application/json") == nil {
			return nil, fmt.Errorf("openapi document: no components/responses/%s with a JSON body", name)
		}
		unrouted[status] = r.Value
	}
	return &Validator{
		doc:    doc,
		router: router,
		// The document's "idn-email" is the service's rule (net/mail, a bare
		// address, RFC 6532 UTF-8 allowed); kin-openapi does not check the
		// format by default.
		formats:  []openapi3.SchemaValidationOption{openapi3.WithStringFormatValidator("idn-email", openapi3.NewCallbackValidator(checkEmail))},
		unrouted: unrouted,
	}, nil
}

func checkEmail(s string) error {
	a, err := mail.ParseAddress(s)
	if err != nil || a.Address != s || a.Name != "" {
		return fmt.Errorf("%q is not a bare email address", s)
	}
	return nil
}

// Check validates one exchange and reports every mismatch with t.Errorf
// (the test goes on). req is the request as sent; if it had a body, req.GetBody
// must return it again (http.NewRequest sets it for in-memory bodies), else
// the request body is not checked. body is the response body, already read;
// res.Body is not used.
func (v *Validator) Check(t testing.TB, req *http.Request, res *http.Response, body []byte) {
	t.Helper()
	if err := v.Validate(req, res, body); err != nil {
		excerpt := string(body)
		if len(excerpt) > 500 {
			excerpt = excerpt[:500] + "..."
		}
		t.Errorf("openapicheck: %s %s -> %d breaks api/openapi.yaml:\n%v\nresponse body: %s",
			req.Method, req.URL.RequestURI(), res.StatusCode, err, excerpt)
	}
}

// Validate is Check returning the mismatches as one error (nil when the
// exchange matches the document).
func (v *Validator) Validate(req *http.Request, res *http.Response, body []byte) error {
	if p := req.URL.Path; p == api.DocsPrefix || strings.HasPrefix(p, api.DocsPrefix+"/") {
		return nil // the Swagger UI's page and assets are not part of the API
	}
	ctx := req.Context()
	routed := routingRequest(req)
	// HEAD is GET without the body (RFC 9110 §9.3.2): the document lists GET
	// only, and its introduction says every GET answers HEAD.
	head := req.Method == http.MethodHead
	if head {
		routed.Method = http.MethodGet
	}
	route, params, err := v.findRoute(routed)
	if err != nil {
		return v.checkUnrouted(routed, res, body)
	}

	var errs []error
	response := route.Operation.Responses.Status(res.StatusCode)
	if response == nil || response.Value == nil {
		return fmt.Errorf("status %d is not documented for %s %s", res.StatusCode, route.Method, route.Path)
	}
	errs = append(errs, undocumentedHeaders(res.Header, response.Value.Headers)...)
	if len(response.Value.Content) == 0 && len(body) > 0 && !head {
		errs = append(errs, fmt.Errorf("status %d of %s %s has no documented body, got %d bytes", res.StatusCode, route.Method, route.Path, len(body)))
	}

	reqInput := &openapi3filter.RequestValidationInput{
		Request:    routed,
		PathParams: params,
		Route:      route,
		Options: &openapi3filter.Options{
			MultiError:              true,
			SkipSettingDefaults:     true,
			AuthenticationFunc:      openapi3filter.NoopAuthenticationFunc,
			SchemaValidationOptions: v.formats,
		},
	}
	resInput := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: reqInput,
		Status:                 res.StatusCode,
		Header:                 res.Header,
		Options: &openapi3filter.Options{
			IncludeResponseStatus:   true,
			MultiError:              true,
			SchemaValidationOptions: v.formats,
		},
	}
	resInput.SetBodyBytes(body)
	switch {
	case head:
		if len(body) > 0 {
			errs = append(errs, fmt.Errorf("HEAD %s answered %d body bytes", route.Path, len(body)))
		}
		errs = append(errs, v.checkHeaders(res.Header, response.Value.Headers)...)
	case res.StatusCode == http.StatusNotModified, res.StatusCode == http.StatusMovedPermanently,
		res.StatusCode == http.StatusTemporaryRedirect, res.StatusCode == http.StatusPermanentRedirect:
		// openapi3filter skips these statuses; check their headers here.
		errs = append(errs, v.checkHeaders(res.Header, response.Value.Headers)...)
	default:
		if err := openapi3filter.ValidateResponse(ctx, resInput); err != nil {
			errs = append(errs, fmt.Errorf("response: %w", err))
		}
	}

	if res.StatusCode/100 == 2 || res.StatusCode == http.StatusNotModified {
		if err := validateRequest(ctx, reqInput); err != nil {
			errs = append(errs, fmt.Errorf("the service accepted a request the document forbids: %w", err))
		}
	}
	return errors.Join(errs...)
}

// Operation names the operation of the document that req is for, as
// "METHOD /path/{template}" (a HEAD as its GET), and false when the document
// has none (an unknown path, or a method the path lacks).
func (v *Validator) Operation(req *http.Request) (string, bool) {
	routed := routingRequest(req)
	if routed.Method == http.MethodHead {
		routed.Method = http.MethodGet
	}
	route, _, err := v.findRoute(routed)
	if err != nil {
		return "", false
	}
	return route.Method + " " + route.Path, true
}

// Operations returns every operation of the document, named as Operation
// names them, with the statuses it lists, in ascending order.
func (v *Validator) Operations() map[string][]int {
	ops := map[string][]int{}
	for path, item := range v.doc.Paths.Map() {
		for method, op := range item.Operations() {
			var statuses []int
			for code := range op.Responses.Map() {
				n, err := strconv.Atoi(code)
				if err != nil {
					continue // "default" or a range: this document has none (api/api_test.go)
				}
				statuses = append(statuses, n)
			}
			slices.Sort(statuses)
			ops[method+" "+path] = statuses
		}
	}
	return ops
}

// Paths returns the paths of the document.
func (v *Validator) Paths() []string {
	var paths []string
	for path := range v.doc.Paths.Map() {
		paths = append(paths, path)
	}
	slices.Sort(paths)
	return paths
}

// findRoute is the router's FindRoute, made strict: kin-openapi's legacy
// router lets a trailing path variable match nothing, or several segments
// (DELETE /bonds would be DELETE /bonds/{bond_id}).
func (v *Validator) findRoute(r *http.Request) (*routers.Route, map[string]string, error) {
	route, params, err := v.router.FindRoute(r)
	if err != nil {
		return nil, nil, err
	}
	if strings.Count(route.Path, "/") != strings.Count(r.URL.Path, "/") {
		return nil, nil, routers.ErrPathNotFound
	}
	for name, value := range params {
		if value == "" {
			return nil, nil, fmt.Errorf("%w: empty {%s}", routers.ErrPathNotFound, name)
		}
	}
	return route, params, nil
}

// routingRequest returns req as the document's router must see it: without
// the trailing slash the service also accepts, and with an escaped "/" in a
// path value kept escaped, so that /bonds/a%2Fb is GET /bonds/{bond_id}.
func routingRequest(req *http.Request) *http.Request {
	r := req.Clone(req.Context())
	u := *req.URL
	if raw := u.EscapedPath(); strings.Contains(strings.ToUpper(raw), "%2F") {
		u.Path, u.RawPath = raw, ""
	}
	if len(u.Path) > 1 {
		u.Path = strings.TrimSuffix(u.Path, "/")
	}
	r.URL = &u
	return r
}

// checkUnrouted checks a response to a request the document has no
// operation for: a 404 for an unknown path, a 405 with Allow for a known
// path, each as the document's components/responses RouteNotFound and
// MethodNotAllowed say (headers and body).
func (v *Validator) checkUnrouted(req *http.Request, res *http.Response, body []byte) error {
	var allowed []string
	for _, m := range methods {
		probe := req.Clone(req.Context())
		probe.Method = m
		if _, _, err := v.findRoute(probe); err == nil {
			allowed = append(allowed, m)
			if m == http.MethodGet { // every GET operation also answers HEAD (the document's introduction says so)
				allowed = append(allowed, http.MethodHead)
			}
		}
	}
	var errs []error
	want := http.StatusNotFound
	if len(allowed) > 0 {
		want = http.StatusMethodNotAllowed
		var got []string
		for _, m := range strings.Split(res.Header.Get("Allow"), ",") {
			if m = strings.TrimSpace(m); m != "" {
				got = append(got, m)
			}
		}
		slices.Sort(got)
		slices.Sort(allowed)
		if !slices.Equal(got, allowed) {
			errs = append(errs, fmt.Errorf("header \"Allow\": got %q, the document has %v", res.Header.Get("Allow"), allowed))
		}
	}
	if res.StatusCode != want {
		return fmt.Errorf("%s %s is not in the document: want status %d, got %d", req.Method, req.URL.Path, want, res.StatusCode)
	}
	documented := v.unrouted[want]
	errs = append(errs, undocumentedHeaders(res.Header, documented.Headers)...)
	errs = append(errs, v.checkHeaders(res.Header, documented.Headers)...)
	if ct := res.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		errs = append(errs, fmt.Errorf("header \"Content-Type\": got %q, want application/json", ct))
	}
	if req.Method == http.MethodHead {
		return errors.Join(errs...)
	}
	var value any
	if err := json.Unmarshal(body, &value); err != nil {
		errs = append(errs, fmt.Errorf("body is not JSON: %w", err))
	} else if err := documented.Content.Get("application/json").Schema.Value.VisitJSON(value, openapi3.VisitAsResponse()); err != nil {
		errs = append(errs, fmt.Errorf("body breaks the document's %d response: %w", want, err))
	}
	return errors.Join(errs...)
}

// undocumentedHeaders reports the response headers that are neither
// documented for the response nor transport headers.
func undocumentedHeaders(got http.Header, documented openapi3.Headers) []error {
	known := map[string]bool{}
	for name := range documented {
		known[http.CanonicalHeaderKey(name)] = true
	}
	for _, name := range transportHeaders {
		known[name] = true
	}
	var names []string
	for name := range got {
		if !known[http.CanonicalHeaderKey(name)] {
			names = append(names, name)
		}
	}
	slices.Sort(names)
	var errs []error
	for _, name := range names {
		errs = append(errs, fmt.Errorf("response header %q is not documented", name))
	}
	return errs
}

// checkHeaders validates documented headers by hand, for the statuses that
// openapi3filter does not validate (all of this document's headers are
// strings).
func (v *Validator) checkHeaders(got http.Header, documented openapi3.Headers) []error {
	var errs []error
	for name, ref := range documented {
		h := ref.Value
		value, ok := got[http.CanonicalHeaderKey(name)]
		switch {
		case !ok && h.Required:
			errs = append(errs, fmt.Errorf("response header %q missing", name))
		case ok && h.Schema != nil && h.Schema.Value != nil:
			if err := h.Schema.Value.VisitJSON(value[0], v.formats...); err != nil {
				errs = append(errs, fmt.Errorf("response header %q: %w", name, err))
			}
		}
	}
	slices.SortFunc(errs, func(a, b error) int { return strings.Compare(a.Error(), b.Error()) })
	return errs
}

// validateRequest validates the request, with its body when GetBody can give
// it again.
func validateRequest(ctx context.Context, in *openapi3filter.RequestValidationInput) error {
	r := in.Request.Clone(ctx)
	r.Body = http.NoBody
	if in.Request.GetBody != nil {
		b, err := in.Request.GetBody()
		if err != nil {
			return fmt.Errorf("get request body: %w", err)
		}
		defer b.Close()
		r.Body = b
	} else if in.Request.ContentLength != 0 {
		opts := *in.Options
		opts.ExcludeRequestBody = true
		in.Options = &opts
	}
	in.Request = r
	return openapi3filter.ValidateRequest(ctx, in)
}
