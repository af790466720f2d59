# apptoken: every target works from a fresh clone. `make help` lists them.
SHELL := bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help

# Every module of the workspace (a folder with a go.mod).
MODULES := $(sort $(patsubst ./%/go.mod,%,$(shell find . -name go.mod -not -path './bin/*' -not -path './out/*')))
BIN := $(CURDIR)/bin
export GOBIN := $(BIN)

GOLANGCI_LINT_VERSION := v2.15.0
GOVULNCHECK_VERSION   := v1.9.0
BENCHSTAT_VERSION     := v0.0.0-20260908200009-22c9c6c9d4da
APIDIFF_VERSION       := v0.0.0-20261113113407-e3970619a1a4

.PHONY: help
help: ## list the targets
	@grep -hE '^[a-z0-9-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-12s %s\n", $$1, $$2}'

.PHONY: modules
modules: ## list the workspace's modules
	@printf '%s\n' $(MODULES)

.PHONY: test
test: ## every module's tests with the race detector, then each module built and vetted alone (GOWORK=off)
	go test -race -count=1 $(addprefix ./,$(addsuffix /...,$(MODULES)))
	@# Alone, a module resolves its dependencies from its own go.mod, not the
	@# workspace's: vet type-checks every package and test against them.
	@for m in $(MODULES); do \
		echo "== $$m alone (GOWORK=off go vet)"; \
		(cd $$m && GOWORK=off go vet ./...) || exit 1; \
	done

.PHONY: vet
vet: ## go vet every module
	go vet $(addprefix ./,$(addsuffix /...,$(MODULES)))

.PHONY: fmt-check
fmt-check: ## fail if gofmt would change a file
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi

.PHONY: tidy-check
tidy-check: ## fail if `go mod tidy` would change any module's go.mod or go.sum
	@for m in $(MODULES); do \
		(cd $$m && GOWORK=off GOFLAGS=-mod=mod go mod tidy) || exit 1; \
	done
	git diff --exit-code -- '*go.mod' '*go.sum'

.PHONY: demo
demo: ## the main job: an example app behind a real daprd, calls through it accepted, calls around it rejected
	bash scripts/demo.sh

.PHONY: ci
ci: fmt-check vet tidy-check test ## the quick check before a push: format, vet, tidy, tests

.PHONY: lint
lint: ## golangci-lint (pinned, installed into ./bin) on every module
	bash scripts/lint.sh $(GOLANGCI_LINT_VERSION) $(MODULES)

.PHONY: vuln
vuln: ## govulncheck (pinned) against an offline vulnerability database built from a pinned golang.org/x/vulndb
	bash scripts/vuln.sh $(GOVULNCHECK_VERSION) $(MODULES)

.PHONY: timing
timing: ## dudect-style timing-leak measurement of the core's verify step
	bash scripts/timing.sh

FUZZTIME ?= 10s
.PHONY: fuzz
fuzz: ## run every fuzz target for FUZZTIME each (make fuzz FUZZTIME=60s)
	bash scripts/fuzz.sh $(FUZZTIME) $(MODULES)

.PHONY: bench
bench: ## benchmarks of every adapter (against the frameworks' own auth middleware, and end to end): tables and target checks
	bash scripts/bench.sh $(BENCHSTAT_VERSION)

.PHONY: daprd
daprd: ## build (or take from the cache) the pinned daprd versions
	bash scripts/daprd.sh v1.14.4 >/dev/null
	bash scripts/daprd.sh v1.18.0 >/dev/null

.PHONY: e2e
e2e: daprd ## end-to-end suite: the examples behind real daprd v1.14.4 and v1.18.0
	bash scripts/e2e.sh

.PHONY: compat
compat: ## the end-to-end suite against daprd v1.14.4, v1.15.4, v1.16.0, v1.16.5 and v1.18.0; writes README's compatibility table
	bash scripts/compat.sh

.PHONY: release
release: ## VERSION=v0.x.y: set it in every go.mod, commit, report API changes, tag every module (pushes nothing)
	@[ -n "$(VERSION)" ] || { echo "usage: make release VERSION=v0.x.y" >&2; exit 2; }
	@go version -m $(BIN)/apidiff 2>/dev/null | grep -q 'golang.org/x/exp[[:space:]]*$(APIDIFF_VERSION)' || \
		GOWORK=off go install golang.org/x/exp/cmd/apidiff@$(APIDIFF_VERSION)
	go run ./tools/cmd/release prepare $(VERSION)

.PHONY: release-check
release-check: ## go get every module at the release version from an on-disk proxy, as a user; README's Go snippets must compile
	go run ./tools/cmd/release check
