package main

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime/debug"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/bondregistry/bond-registry/internal/config"
)

// healthcheck probes the port serve listens on, with or without PORT, so that
// `make run` then `bin/bond-registry healthcheck` finds the server.
func TestHealthcheck_ProbesThePortServeListensOn(t *testing.T) {
	for _, env := range []map[string]string{nil, {"PORT": "5123"}, {"PORT": "5123", "ALLOW_UNAUTHENTICATED": "true"}} {
		cfg, err := config.Load(nil, func(k string) string { return env[k] }, io.Discard)
		require.NoError(t, err)
		u, err := url.Parse(healthURL(cfg))
		require.NoError(t, err)
		_, servePort, err := net.SplitHostPort(listenAddr(cfg))
		require.NoError(t, err)
		assert.Equal(t, servePort, u.Port(), "env %v", env)
		assert.Equal(t, "127.0.0.1", u.Hostname(), "serve always listens on loopback")
	}
}

// make run sets no PORT of its own, so it serves on config.DefaultPort, the
// port healthcheck probes when PORT is unset; its help line says which.
func TestMakefile_RunServesOnTheDefaultPort(t *testing.T) {
	mk, err := os.ReadFile("../../Makefile")
	require.NoError(t, err)
	recipe := regexp.MustCompile(`(?m)^run:.*\n((?:\t.*\n)+)`).FindSubmatch(mk)
	require.NotNil(t, recipe, "Makefile has a run target")
	assert.NotContains(t, string(recipe[1]), "PORT=", "make run must not choose a port healthcheck does not know")
	assert.Regexp(t, `(?m)^run:.*## .*default `+strconv.Itoa(config.DefaultPort), string(mk))
	assert.NotRegexp(t, `(?m)^PORT\s*[:?]?=`, string(mk))
}

// migrate against an HTTP server that is not DynamoDB fails in one line
// naming the endpoint and DYNAMODB_ENDPOINT.
func TestMigrate_NotDynamoDBIsOneLine(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	defer srv.Close()
	t.Setenv("AWS_ACCESS_KEY_ID", "local")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "local")
	env := map[string]string{"STORE": "dynamodb", "DYNAMODB_ENDPOINT": srv.URL, "AWS_REGION": "us-east-1"}
	err := run(context.Background(), []string{"bond-registry", "migrate"}, func(k string) string { return env[k] }, io.Discard, io.Discard)
	require.Error(t, err)
	assert.Equal(t, "migrate: "+srv.URL+"/ is not DynamoDB: DescribeTable got HTTP 404 (text/plain; charset=utf-8) that is not DynamoDB's JSON (DYNAMODB_ENDPOINT="+srv.URL+")", err.Error())
}

// version prints the release version stamped in and the commit of the VCS
// stamp, and says when the tree had uncommitted changes or no stamp.
func TestVersionLine(t *testing.T) {
	old := version
	t.Cleanup(func() { version = old })
	version = "1.2.3"
	assert.Empty(t, commit, "unstamped in tests")
	rev := "0123456789abcdef0123456789abcdef01234567"
	info := &debug.BuildInfo{Settings: []debug.BuildSetting{{Key: "vcs", Value: "git"}, {Key: "vcs.revision", Value: rev}, {Key: "vcs.modified", Value: "false"}}}
	assert.Equal(t, "bond-registry 1.2.3, commit "+rev, versionLine(info, true))
	info.Settings[2].Value = "true"
	assert.Equal(t, "bond-registry 1.2.3, commit "+rev+" (modified)", versionLine(info, true))
	assert.Equal(t, "bond-registry 1.2.3, commit unknown", versionLine(&debug.BuildInfo{}, true))
	assert.Equal(t, "bond-registry 1.2.3, commit unknown", versionLine(nil, false))
	commit = rev + "-modified"
	t.Cleanup(func() { commit = "" })
	assert.Equal(t, "bond-registry 1.2.3, commit "+rev+"-modified", versionLine(info, true), "make build's stamp first")
}

// make build stamps the VERSION file's release and the commit: the real
// binary says both.
func TestVersion_MakeBuild(t *testing.T) {
	release, err := os.ReadFile("../../VERSION")
	require.NoError(t, err)
	bin := filepath.Join(t.TempDir(), "bond-registry")
	build := exec.Command("make", "--no-print-directory", "-C", "../..", "build", "BIN="+bin)
	out, err := build.CombinedOutput()
	require.NoError(t, err, "%s", out)
	head, err := exec.Command("git", "rev-parse", "HEAD").Output()
	require.NoError(t, err)
	out, err = exec.Command(bin, "version").Output()
	require.NoError(t, err)
	assert.Regexp(t, `^bond-registry `+regexp.QuoteMeta(strings.TrimSpace(string(release)))+`, commit `+strings.TrimSpace(string(head))+`(-modified)?\n$`, string(out))
}
