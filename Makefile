# Bond Registry. `make help` lists the targets.
SHELL := /usr/bin/env bash
.SHELLFLAGS := -euo pipefail -c

# The release version: the VERSION file, the one place it is written (the
# OpenAPI info.version and CHANGELOG.md's latest release must equal it, a
# test checks). COMMIT is the commit built, "-modified" when the tree differs.
VERSION ?= $(shell cat VERSION)
COMMIT  ?= $(shell git rev-parse HEAD 2>/dev/null || echo unknown)$(shell git diff --quiet HEAD 2>/dev/null || echo -modified)
BIN     := bin/bond-registry
GOBIN   := $(CURDIR)/.cache/bin
STATICCHECK := $(GOBIN)/staticcheck

.PHONY: help build run test fuzz test-go lint clean init up down migrate post logs stack-check image-check compose-run bench bench-compare

COMPOSE ?= docker-compose

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed 's/:.*## /\t/' | expand -t 18

build: ## build bin/bond-registry (static, version and commit stamped)
	CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X main.version=$(VERSION) -X main.commit=$(COMMIT)" -o $(BIN) ./cmd/bond-registry

# run sets no PORT: it serves on the default (5000, internal/config), which
# `bin/bond-registry healthcheck` probes too. `make run PORT=N` serves on N;
# then `PORT=N bin/bond-registry healthcheck`.
run: build ## serve on 127.0.0.1:$PORT (default 5000) with the embedded store, seeded on first start
	@if [ ! -f "$${BOLT_PATH:-data/bonds.db}" ]; then $(BIN) seed localdb/02-load-data.json; fi
	$(BIN) serve

test: ## every test: Go (-race) on both stores, docs page, stack checks
	scripts/test.sh

fuzz: ## every Go fuzz target for FUZZ_TIME (default 20s) each; a crasher fails
	scripts/fuzz.sh

test-go: ## Go tests only, with whatever DynamoDB Local/engine the environment gives
	go test -race -count=1 ./...

$(STATICCHECK):
	GOBIN=$(GOBIN) go install honnef.co/go/tools/cmd/staticcheck@v0.8.2

lint: $(STATICCHECK) ## gofmt, go vet, staticcheck (the service and the bench/ module)
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	go vet -tags filebeatcheck ./...
	$(STATICCHECK) -tags filebeatcheck ./...
	cd bench && go vet ./... && $(STATICCHECK) ./...

clean: ## remove build output and caches (not data/)
	rm -rf bin build .cache

# --- The local stack (Docker): the service on DynamoDB Local, ELK for its logs.

init: ## build the image, start the stack in order (table created + seeded first), set up Kibana
	VERSION=$(VERSION) $(COMPOSE) build
	VERSION=$(VERSION) $(COMPOSE) up -d
	@for i in $$(seq 90); do curl -fsS http://localhost:5000/healthz >/dev/null && break; \
	  if [ $$i = 90 ]; then echo "bond-registry not healthy after 180s"; $(COMPOSE) ps; exit 1; fi; sleep 2; done
	KIBANA_URL=http://localhost:5601 elk/kibana/setup.sh

up: ## start the stack (no rebuild)
	VERSION=$(VERSION) $(COMPOSE) up -d

down: ## stop the stack and remove its containers and volumes
	$(COMPOSE) down -v

migrate: ## create the DynamoDB table if missing, backfill guard items (idempotent)
	$(COMPOSE) run --rm bond-registry-migrate

post: ## load localdb/02-load-data.json into the stack (existing bonds are skipped)
	$(COMPOSE) run --rm bond-registry-seed

logs: ## follow the service's JSON log lines
	docker logs --follow bond-registry

stack-check: ## compose parses, shellcheck, YAML, compose file references (no Docker needed)
	scripts/stack-check.sh

compose-run: ## (root) the service + DynamoDB Local by docker-compose on podman, FOO on :5000, real Filebeat over its log
	scripts/compose-run.sh

image-check: build ## the static binary alone in an empty rootfs, run by podman as a non-root user
	scripts/image-check.sh

bench: build ## benchmarks over HTTP (bench/ module) + DynamoDB store's paired ceilings, one table + ratios
	scripts/bench.sh

bench-compare: build ## GET /bonds/{id} of the service at REV vs this tree, paired: make bench-compare REV=HEAD~1
	scripts/bench.sh compare $(REV)
