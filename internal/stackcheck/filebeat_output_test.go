//go:build filebeatcheck

package stackcheck_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// This file holds the check of what the real Filebeat emits. It needs
// Filebeat's output, so it is built only with -tags filebeatcheck, by
// scripts/filebeat-check.sh, which runs Filebeat with elk/filebeat/filebeat.yml
// over the service's container log and sets:
//
//	FILEBEAT_EVENTS    the directory of Filebeat's file output (ndjson)
//	FILEBEAT_TEMPLATE  the output of `filebeat export template`
//	FILEBEAT_REQUESTS  the requests sent: X-Request-ID, method, path,
//	                   status, trace id or "-", tab-separated

// serviceContainer is the container whose lines Filebeat decodes
// (docker-compose.yml container_name, filebeat.yml when-condition, the saved
// search's query).
const serviceContainer = "bond-registry"

// sentRequest is one line of FILEBEAT_REQUESTS.
type sentRequest struct {
	id, method, path, traceID string
	status                    int
}

// TestFilebeatOutput checks that every request sent to the service has an
// event from Filebeat carrying each column of the Kibana saved search, with
// a value of the Elasticsearch type Filebeat's template maps it to, and equal
// to what was sent and answered; that the requests covered 2xx, 4xx and 5xx;
// and that no subscriber name or email of the seed data is in any event.
func TestFilebeatOutput(t *testing.T) {
	root := repoRoot(t)
	events := readEvents(t, envPath(t, "FILEBEAT_EVENTS"))
	requests := readRequests(t, envPath(t, "FILEBEAT_REQUESTS"))
	mappings := readTemplateMappings(t, envPath(t, "FILEBEAT_TEMPLATE"))
	columns := savedSearchColumns(t, root)
	require.Contains(t, columns, "http.response.status_code", "the saved search shows the status")

	access := map[string]map[string]any{} // the service's access events by http.request.id
	var service int
	for _, e := range events {
		if lookupString(e, "container.name") != serviceContainer {
			continue
		}
		service++
		assert.NotEqual(t, "json", lookupString(e, "error.type"), "Filebeat could not decode a line: %v", e)
		assertNoDottedKeys(t, e, "")
		if lookupString(e, "message") == "request" {
			access[lookupString(e, "http.request.id")] = e
		}
	}
	require.NotZero(t, service, "no event of the %s container (add_docker_metadata)", serviceContainer)

	classes := map[int]bool{}
	for _, r := range requests {
		classes[r.status/100] = true
		t.Run(r.method+" "+r.path+" "+strconv.Itoa(r.status), func(t *testing.T) {
			e, ok := access[r.id]
			require.True(t, ok, "no access event with http.request.id %s", r.id)
			for _, col := range columns {
				v, ok := lookup(e, col)
				if col == "trace.id" && r.traceID == "-" {
					assert.False(t, ok, "trace.id without a traceparent")
					continue
				}
				if !assert.True(t, ok, "saved search column %s missing", col) {
					continue
				}
				assertMappedType(t, col, mappingType(t, mappings, col), v)
			}
			assert.Equal(t, r.method, lookupString(e, "http.request.method"))
			assert.Equal(t, r.path, lookupString(e, "url.path"))
			assert.Equal(t, json.Number(strconv.Itoa(r.status)), lookupValue(e, "http.response.status_code"))
			if r.traceID != "-" {
				assert.Equal(t, r.traceID, lookupString(e, "trace.id"))
			}
			if r.status != 404 {
				assert.NotEmpty(t, lookupString(e, "http.route"), "the route pattern")
			}
			d, err := lookupValue(e, "event.duration").(json.Number).Int64()
			if assert.NoError(t, err) {
				assert.Positive(t, d, "event.duration in nanoseconds")
			}
			assert.Equal(t, "info", lookupString(e, "log.level"))
			assert.Equal(t, serviceContainer, lookupString(e, "service.name"))
			assert.NotEmpty(t, lookupString(e, "service.version"))
			assert.NotEmpty(t, lookupString(e, "ecs.version"))
			assert.Equal(t, "stdout", lookupString(e, "stream"), "the container parser's stream")
			ts, err := time.Parse(time.RFC3339Nano, lookupString(e, "@timestamp"))
			if assert.NoError(t, err, "@timestamp") {
				assert.WithinDuration(t, time.Now(), ts, time.Hour)
			}
		})
	}
	assert.True(t, classes[2] && classes[4] && classes[5], "the requests cover 2xx, 4xx and 5xx: %v", classes)

	t.Run("NoSubscriberNameOrEmail", func(t *testing.T) {
		raw, err := os.ReadFile(filepath.Join(root, "localdb", "02-load-data.json"))
		require.NoError(t, err)
		secrets := seedNamesAndEmails(t, raw)
		require.NotEmpty(t, secrets)
		for _, e := range events {
			b, err := json.Marshal(e)
			require.NoError(t, err)
			for _, s := range secrets {
				assert.NotContains(t, string(b), s, "a subscriber's name or email reached Filebeat")
			}
		}
	})
}

// envPath returns the path in the environment variable name, or fails.
func envPath(t *testing.T, name string) string {
	t.Helper()
	p := os.Getenv(name)
	require.NotEmpty(t, p, "%s is not set: run scripts/filebeat-check.sh", name)
	return p
}

// readEvents decodes every line of every file in dir, numbers as json.Number.
func readEvents(t *testing.T, dir string) []map[string]any {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dir, "filebeat*"))
	require.NoError(t, err)
	require.NotEmpty(t, files, "no Filebeat output in %s", dir)
	var events []map[string]any
	for _, f := range files {
		b, err := os.ReadFile(f)
		require.NoError(t, err)
		sc := bufio.NewScanner(bytes.NewReader(b))
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			var e map[string]any
			d := json.NewDecoder(bytes.NewReader(sc.Bytes()))
			d.UseNumber()
			require.NoError(t, d.Decode(&e), "an event: %s", sc.Text())
			events = append(events, e)
		}
		require.NoError(t, sc.Err())
	}
	return events
}

// readRequests reads the FILEBEAT_REQUESTS file.
func readRequests(t *testing.T, path string) []sentRequest {
	t.Helper()
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	var rs []sentRequest
	for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		f := strings.Split(line, "\t")
		require.Len(t, f, 5, "request line %q", line)
		status, err := strconv.Atoi(f[3])
		require.NoError(t, err, "request line %q", line)
		rs = append(rs, sentRequest{id: f[0], method: f[1], path: f[2], status: status, traceID: f[4]})
	}
	require.NotEmpty(t, rs)
	return rs
}

// readTemplateMappings returns the properties of the template's mappings.
func readTemplateMappings(t *testing.T, path string) map[string]any {
	t.Helper()
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	var tmpl struct {
		Template struct {
			Mappings struct {
				Properties map[string]any `json:"properties"`
			} `json:"mappings"`
		} `json:"template"`
	}
	require.NoError(t, json.Unmarshal(b, &tmpl))
	require.NotEmpty(t, tmpl.Template.Mappings.Properties, "no mappings in %s", path)
	return tmpl.Template.Mappings.Properties
}

// mappingType returns the Elasticsearch type the template gives the dotted
// field name, or fails when the template does not map it.
func mappingType(t *testing.T, props map[string]any, name string) string {
	t.Helper()
	parts := strings.Split(name, ".")
	for i, p := range parts {
		m, ok := props[p].(map[string]any)
		require.True(t, ok, "Filebeat's template does not map %s", name)
		if i == len(parts)-1 {
			typ, _ := m["type"].(string)
			require.NotEmpty(t, typ, "no type for %s in Filebeat's template", name)
			return typ
		}
		props, ok = m["properties"].(map[string]any)
		require.True(t, ok, "Filebeat's template does not map %s", name)
	}
	return ""
}

// assertMappedType checks that v, as decoded from Filebeat's JSON, is a value
// Elasticsearch accepts for a field of type typ without coercion.
func assertMappedType(t *testing.T, name, typ string, v any) {
	t.Helper()
	switch typ {
	case "keyword", "constant_keyword", "wildcard", "text", "match_only_text":
		assert.IsType(t, "", v, "%s (%s)", name, typ)
	case "long", "integer", "short", "byte":
		n, ok := v.(json.Number)
		if assert.True(t, ok, "%s (%s) is a number: %v", name, typ, v) {
			_, err := n.Int64()
			assert.NoError(t, err, "%s (%s) is a whole number: %v", name, typ, v)
		}
	case "float", "double", "scaled_float":
		n, ok := v.(json.Number)
		if assert.True(t, ok, "%s (%s) is a number: %v", name, typ, v) {
			_, err := n.Float64()
			assert.NoError(t, err)
		}
	case "date":
		s, ok := v.(string)
		if assert.True(t, ok, "%s (%s) is a string: %v", name, typ, v) {
			_, err := time.Parse(time.RFC3339Nano, s)
			assert.NoError(t, err, "%s (%s)", name, typ)
		}
	default:
		t.Errorf("%s: type %s is not one this check knows", name, typ)
	}
}

// lookup returns the value at the dotted name in an event of nested objects.
func lookup(e map[string]any, name string) (any, bool) {
	if v, ok := e[name]; ok { // @timestamp, or a key Filebeat did not expand
		return v, true
	}
	var cur any = e
	for _, p := range strings.Split(name, ".") {
		m, ok := cur.(map[string]any)
		if !ok {
			return nil, false
		}
		if cur, ok = m[p]; !ok {
			return nil, false
		}
	}
	return cur, true
}

func lookupValue(e map[string]any, name string) any {
	v, _ := lookup(e, name)
	return v
}

func lookupString(e map[string]any, name string) string {
	s, _ := lookupValue(e, name).(string)
	return s
}

// assertNoDottedKeys fails on a key with a dot: decode_json_fields'
// expand_keys must have turned the service's dotted ECS keys into objects.
func assertNoDottedKeys(t *testing.T, m map[string]any, prefix string) {
	t.Helper()
	for k, v := range m {
		if prefix == "" && k == "@timestamp" || prefix == "" && k == "@metadata" {
			continue
		}
		assert.NotContains(t, k, ".", "key %s%s not expanded", prefix, k)
		if sub, ok := v.(map[string]any); ok {
			assertNoDottedKeys(t, sub, prefix+k+".")
		}
	}
}

// savedSearchColumns returns the columns of elk/kibana/saved-search.json.
func savedSearchColumns(t *testing.T, root string) []string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(root, "elk", "kibana", "saved-search.json"))
	require.NoError(t, err)
	var s struct {
		Attributes struct {
			Columns []string `json:"columns"`
		} `json:"attributes"`
	}
	require.NoError(t, json.Unmarshal(b, &s))
	require.NotEmpty(t, s.Attributes.Columns)
	return s.Attributes.Columns
}

// seedNamesAndEmails returns every subscriber name and email in the
// BatchWriteItem file raw (values of "name" and "email" attributes).
func seedNamesAndEmails(t *testing.T, raw []byte) []string {
	t.Helper()
	var doc any
	require.NoError(t, json.Unmarshal(raw, &doc))
	var out []string
	var walk func(any)
	walk = func(v any) {
		switch v := v.(type) {
		case map[string]any:
			for k, sub := range v {
				if attr, ok := sub.(map[string]any); ok && (k == "name" || k == "email") {
					if s, ok := attr["S"].(string); ok {
						out = append(out, s)
					}
				}
				walk(sub)
			}
		case []any:
			for _, sub := range v {
				walk(sub)
			}
		}
	}
	walk(doc)
	return out
}
