# Developer and CI entry points. Provisioning lives in scripts/ (see each
# script's header); everything here works on a fresh Debian machine.
#
#   make run     PostgreSQL + Mailpit + database $(DB_NAME), then `go run ./cmd/multimedia serve`
#   make test    PostgreSQL + Mailpit + a throw-away database, then go test -race ./...
#   make bench   same provisioning, benchmarks only
#   make lint    gofmt -l check, go vet, and the OpenAPI linters (Redocly, Spectral via npx)
#   make build   bin/multimedia
#   make docs-check  README's shell blocks, run against a fresh server of their own

SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help

GO         ?= go
PKGS       ?= ./...
DB_NAME    ?= multimedia
TEST_FLAGS ?= -race -count=1 -timeout 20m
BENCH      ?= .
BENCHTIME  ?= 1s
BENCH_FLAGS ?= -run '^$$' -bench '$(BENCH)' -benchmem -benchtime $(BENCHTIME) -count=1 -timeout 30m

export DB_NAME

REDOCLY   ?= @redocly/cli@2.77.0
SPECTRAL  ?= @stoplight/spectral-cli@6.16.3
OPENAPI   ?= bin/openapi.yaml
OAPI_CODEGEN ?= github.com/oapi-codegen/oapi-codegen/v2/cmd/oapi-codegen@v2.8.2

.PHONY: docs-check help run migrate test bench lint fmt vet openapi openapi-lint apiclient apiclient-check build services postgres mailpit clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{ printf "  make %-9s %s\n", $$1, $$2 }'

run: ## provision PostgreSQL and Mailpit, create the database, go run ./cmd/multimedia serve
	scripts/run.sh serve

migrate: ## provision, create the database, go run ./cmd/multimedia migrate
	scripts/run.sh migrate

test: ## provision, fresh test database, go test -race ./... (TEST_DATABASE_URL, TEST_SMTP_ADDR, TEST_MAILPIT_URL)
	scripts/with-test-env.sh $(GO) test $(TEST_FLAGS) $(PKGS)

docs-check: ## run README's shell blocks in order against a fresh server, database and Mailpit (scripts/readme-check.sh)
	scripts/readme-check.sh

bench: ## provision, fresh test database, benchmarks only (BENCH=regexp BENCHTIME=1s)
	scripts/with-test-env.sh $(GO) test $(BENCH_FLAGS) $(PKGS)

lint: fmt vet openapi-lint apiclient-check ## gofmt -l check, go vet, OpenAPI linters, generated client current

fmt: ## fail when a Go file is not gofmt-formatted
	@files=$$(gofmt -l $$(find . -name '*.go' -not -path './.bin/*' -not -path './vendor/*' -not -path './.git/*')); \
	if [ -n "$$files" ]; then echo "gofmt needed on:" >&2; echo "$$files" >&2; exit 1; fi; \
	echo "gofmt: ok" >&2

vet: ## go vet
	$(GO) vet $(PKGS)

$(OPENAPI): httpapi/openapi/*.yaml
	@mkdir -p $(dir $@)
	@# the fragments in byte order, each ending in a newline: what /openapi.yaml serves
	LC_ALL=C awk 1 $$(LC_ALL=C ls httpapi/openapi/*.yaml) > $@

openapi: $(OPENAPI) ## assemble the served OpenAPI document into bin/openapi.yaml

apiclient: $(OPENAPI) ## regenerate the typed Go client httpapi/apiclient from the document
	$(GO) run $(OAPI_CODEGEN) -generate types,client -package apiclient -o httpapi/apiclient/client.gen.go $(OPENAPI)

apiclient-check: $(OPENAPI) ## fail when httpapi/apiclient is not what the document generates (run make apiclient)
	$(GO) run $(OAPI_CODEGEN) -generate types,client -package apiclient -o bin/apiclient.gen.go $(OPENAPI)
	@cmp -s bin/apiclient.gen.go httpapi/apiclient/client.gen.go || { echo "httpapi/apiclient/client.gen.go is stale: run make apiclient" >&2; exit 1; }

openapi-lint: $(OPENAPI) ## lint the assembled OpenAPI document (npx: Redocly CLI, Spectral spectral:oas; 0 errors)
	npx --yes $(REDOCLY) lint --config redocly.yaml $(OPENAPI)
	npx --yes $(SPECTRAL) lint --ruleset .spectral.yaml --fail-severity error $(OPENAPI)

build: ## build bin/multimedia
	$(GO) build -o bin/multimedia ./cmd/multimedia

services: postgres mailpit ## start PostgreSQL and Mailpit only

postgres: ## make sure PostgreSQL answers (prints its superuser URL)
	scripts/ensure-postgres.sh

mailpit: ## make sure Mailpit answers on 127.0.0.1:1025 / :8025
	scripts/ensure-mailpit.sh

clean: ## remove bin/
	rm -rf bin
