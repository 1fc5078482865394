// Package stackcheck holds CI checks of the local stack's files: every YAML
// file parses and docker-compose.yml references only files that exist and
// keeps the names and order the README promises (no engine needed); and,
// built with -tags filebeatcheck and run by scripts/filebeat-check.sh, the
// check of what the real Filebeat emits from the service's container log
// with elk/filebeat/filebeat.yml. It has no code of its own; the checks are
// its tests.
package stackcheck
