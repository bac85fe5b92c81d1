# The one test command is `make test`: it installs what the tests need
# (Go modules, the npm CLI version the differential tests compare with,
# the Verdaccio registry the publish tests run, Fulcio, Rekor, Trillian
# and MariaDB for the provenance tests), checks formatting, vets, and runs
# every test.

NPM_VERSION := 11.19.1
TOOLS       := $(CURDIR)/.cache/tools
export PATH := $(TOOLS)/npm/bin:$(PATH)
export AIRLOCK_TEST_CACHE ?= $(CURDIR)/.cache/test
VERDACCIO   := $(TOOLS)/verdaccio
export AIRLOCK_VERDACCIO ?= $(VERDACCIO)
# Fulcio, Rekor and Trillian built from their Go modules, and MariaDB from
# Debian: the real Sigstore the provenance tests sign through.
SIGSTORE    := $(TOOLS)/sigstore
export AIRLOCK_SIGSTORE ?= $(SIGSTORE)

.PHONY: test deps fmt vet example bench fuzz

test: deps fmt vet
	go test -count=1 -timeout 30m ./...

deps:
	go mod download
	@command -v node >/dev/null || { echo "node is required (the differential tests run the real npm)"; exit 1; }
	@if [ "$$(npm --version 2>/dev/null)" != "$(NPM_VERSION)" ]; then \
		echo "installing npm@$(NPM_VERSION) into $(TOOLS)/npm"; \
		npm install --global --prefix "$(TOOLS)/npm" --no-audit --no-fund "npm@$(NPM_VERSION)"; \
	fi
	@echo "npm $$(npm --version) at $$(command -v npm)"
	@sh internal/registrytest/install.sh "$(VERDACCIO)"
	@sh internal/sigstoretest/install.sh "$(SIGSTORE)"

fmt:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt needed on:"; echo "$$out"; exit 1; fi

vet:
	go vet ./...

# Runs airlock's main job on the bundled example package.
example:
	@out=$$(mktemp -d) && go run ./cmd/airlock pack testdata/example --pack-destination "$$out" && ls -l "$$out"

bench: deps
	go test -run '^$$' -bench . -benchmem ./...
