# Bond Registry. `make help` lists the targets.
SHELL := /usr/bin/env bash
.SHELLFLAGS := -euo pipefail -c
export PATH := $(PATH):/usr/local/go/bin

VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
BIN     := bin/bond-registry
GOBIN   := $(CURDIR)/.cache/bin
STATICCHECK := $(GOBIN)/staticcheck
PORT    ?= 5000

.PHONY: help build run test test-go lint clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed 's/:.*## /\t/' | expand -t 18

build: ## build bin/bond-registry (static, version stamped)
	CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X main.version=$(VERSION)" -o $(BIN) ./cmd/bond-registry

run: build ## serve on :5000 with the embedded store, seeded on first start
	@if [ ! -f "$${BOLT_PATH:-data/bonds.db}" ]; then $(BIN) seed localdb/02-load-data.json; fi
	PORT=$(PORT) $(BIN) serve

test: ## every test: Go (-race) on both stores and both DynamoDB providers, docs page, stack checks
	scripts/test.sh

test-go: ## Go tests only, with whatever DynamoDB Local/engine the environment gives
	go test -race -count=1 ./...

$(STATICCHECK):
	GOBIN=$(GOBIN) go install honnef.co/go/tools/cmd/staticcheck@v0.8.2

lint: $(STATICCHECK) ## gofmt, go vet, staticcheck
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	go vet ./...
	$(STATICCHECK) ./...

clean: ## remove build output and caches (not data/)
	rm -rf bin build .cache
