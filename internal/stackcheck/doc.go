// Package stackcheck holds CI checks of the local stack's files that need no
// Docker engine: every YAML file parses, docker-compose.yml references only
// files that exist, and the Filebeat decoding rules in elk/filebeat turn the
// service's real access lines into the fields the Kibana saved search shows.
// It has no code of its own; the checks are its tests.
package stackcheck
