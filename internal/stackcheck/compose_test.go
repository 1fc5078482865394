package stackcheck_test

import (
	"bufio"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

type composeFile struct {
	Services map[string]struct {
		Image         string `yaml:"image"`
		ContainerName string `yaml:"container_name"`
		Build         any    `yaml:"build"` // a context string or {context, dockerfile, args}
		EnvFile       any    `yaml:"env_file"`
		Volumes       []string
		Ports         []string
		Healthcheck   map[string]any `yaml:"healthcheck"`
		DependsOn     map[string]struct {
			Condition string `yaml:"condition"`
		} `yaml:"depends_on"`
	} `yaml:"services"`
}

// TestCompose checks what docker-compose config cannot: that the files the
// stack mounts exist, and the names and order the README promises.
func TestCompose(t *testing.T) {
	root := repoRoot(t)
	var c composeFile
	readYAML(t, root, "docker-compose.yml", &c)

	t.Run("ReferencedFilesExist", func(t *testing.T) {
		for name, s := range c.Services {
			for _, v := range s.Volumes {
				src, _, _ := strings.Cut(v, ":")
				if !strings.HasPrefix(src, ".") {
					continue // a named volume or a host path such as /var/run/docker.sock
				}
				_, err := os.Stat(filepath.Join(root, src))
				assert.NoError(t, err, "%s mounts %s", name, v)
			}
			if s.Build != nil {
				ctx, dockerfile := ".", "Dockerfile"
				switch b := s.Build.(type) {
				case string:
					ctx = b
				case map[string]any:
					if v, ok := b["context"].(string); ok {
						ctx = v
					}
					if v, ok := b["dockerfile"].(string); ok {
						dockerfile = v
					}
				}
				assert.DirExists(t, filepath.Join(root, ctx), "%s build context", name)
				assert.FileExists(t, filepath.Join(root, ctx, dockerfile), "%s Dockerfile", name)
			}
			var envFiles []string
			switch e := s.EnvFile.(type) {
			case string:
				envFiles = []string{e}
			case []any:
				for _, f := range e {
					envFiles = append(envFiles, f.(string))
				}
			}
			for _, f := range envFiles {
				assert.FileExists(t, filepath.Join(root, f), "%s env_file", name)
			}
		}
	})

	t.Run("ServicesOfTheREADME", func(t *testing.T) {
		for name, port := range map[string]string{
			"bond-registry":  "5000:5000",
			"dynamodb-local": "8000:8000",
			"elasticsearch":  "9200:9200",
			"kibana":         "5601:5601",
			"filebeat":       "",
		} {
			s, ok := c.Services[name]
			if !assert.True(t, ok, "service %s missing", name) {
				continue
			}
			assert.Equal(t, name, s.ContainerName, "container name of %s", name)
			if port != "" {
				assert.Contains(t, s.Ports, port, "%s ports", name)
			}
			if name != "bond-registry" { // its health check is the image's HEALTHCHECK
				assert.NotEmpty(t, s.Healthcheck, "%s has no healthcheck", name)
			}
		}
		assert.Contains(t, c.Services["elasticsearch"].Ports, "9300:9300")
	})

	t.Run("ServiceStartsAfterTableIsSeeded", func(t *testing.T) {
		dep := c.Services["bond-registry"].DependsOn
		assert.Equal(t, "service_healthy", dep["dynamodb-local"].Condition)
		assert.Equal(t, "service_completed_successfully", dep["bond-registry-seed"].Condition)
		assert.Equal(t, "service_completed_successfully",
			c.Services["bond-registry-seed"].DependsOn["bond-registry-migrate"].Condition)
		assert.Equal(t, "service_healthy",
			c.Services["bond-registry-migrate"].DependsOn["dynamodb-local"].Condition)
	})

	t.Run("VariablesWithoutDefaultAreInDotEnv", func(t *testing.T) {
		raw, err := os.ReadFile(filepath.Join(root, "docker-compose.yml"))
		require.NoError(t, err)
		env := readDotEnv(t, filepath.Join(root, ".env"))
		for _, m := range regexp.MustCompile(`\$\{([A-Z0-9_]+)\}`).FindAllStringSubmatch(string(raw), -1) {
			assert.NotEmpty(t, env[m[1]], "${%s} has no default and is not set in .env", m[1])
		}
		assert.Regexp(t, `^8\.19\.\d+$`, env["ELK_VERSION"], "ELK_VERSION: a supported 8.19.x release")
		assert.Equal(t, "2.6.1", env["DYNAMODB_LOCAL_VERSION"], "the tag the testcontainers tests pin")
	})
}

// readDotEnv reads KEY=VALUE lines, skipping comments and blank lines.
func readDotEnv(t *testing.T, path string) map[string]string {
	t.Helper()
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	env := map[string]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		require.True(t, ok, "bad .env line %q", line)
		env[k] = v
	}
	require.NoError(t, sc.Err())
	return env
}
