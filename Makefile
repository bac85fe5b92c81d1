# The one test command is `make test`: it installs what the tests need
# (Go modules, the npm CLI version the differential tests compare with,
# the Verdaccio registry the publish tests run, Fulcio, Rekor, Trillian
# and MariaDB for the provenance tests), checks formatting, vets, and runs
# every test.

NPM_VERSION := 11.19.1
TOOLS       := $(CURDIR)/.cache/tools
export PATH := $(TOOLS)/pnpm/bin:$(TOOLS)/yarn/bin:$(TOOLS)/npm/bin:$(PATH)
# pnpm and yarn, at pinned versions, for the workspace differential tests.
export AIRLOCK_PNPM ?= $(TOOLS)/pnpm/bin/pnpm
export AIRLOCK_YARN ?= $(TOOLS)/yarn/bin/yarn
export AIRLOCK_TEST_CACHE ?= $(CURDIR)/.cache/test
VERDACCIO   := $(TOOLS)/verdaccio
export AIRLOCK_VERDACCIO ?= $(VERDACCIO)
# Fulcio, Rekor and Trillian built from their Go modules, and MariaDB from
# Debian: the real Sigstore the provenance tests sign through.
SIGSTORE    := $(TOOLS)/sigstore
export AIRLOCK_SIGSTORE ?= $(SIGSTORE)
# actionlint built from its Go module, for the workflow tests; and the
# tool that builds the reproducible release archives (internal/release).
ACTIONLINT  := $(TOOLS)/actionlint
export AIRLOCK_ACTIONLINT ?= $(ACTIONLINT)
RELEASE     := go run ./internal/release/cmd/airlock-release

.PHONY: test deps deps-go deps-npm deps-registry deps-pms deps-sigstore fmt vet example bench fuzz

test: deps fmt vet
	go test -count=1 -timeout 30m ./...

# deps is everything the tests need; its pieces can be installed alone
# (make example needs only deps-registry, not the 11-minute Sigstore build).
deps: deps-go deps-registry deps-pms deps-sigstore
	@sh internal/release/install-linters.sh "$(ACTIONLINT)"

deps-go:
	go mod download

deps-npm:
	@command -v node >/dev/null || { echo "node is required (the differential tests run the real npm)"; exit 1; }
	@if [ "$$(npm --version 2>/dev/null)" != "$(NPM_VERSION)" ]; then \
		echo "installing npm@$(NPM_VERSION) into $(TOOLS)/npm"; \
		npm install --global --prefix "$(TOOLS)/npm" --no-audit --no-fund "npm@$(NPM_VERSION)"; \
	fi
	@echo "npm $$(npm --version) at $$(command -v npm)"

deps-registry: deps-npm
	@sh internal/registrytest/install.sh "$(VERDACCIO)"

deps-pms: deps-npm
	@sh internal/npmtest/install-pms.sh "$(TOOLS)"

deps-sigstore:
	@sh internal/sigstoretest/install.sh "$(SIGSTORE)"

fmt:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt needed on:"; echo "$$out"; exit 1; fi

vet:
	go vet ./...

# Runs the whole split release of the bundled example package on local
# servers (Verdaccio, the front door, an OIDC issuer), narrating each job;
# internal/demo is the code, and its test runs the same in make test.
example: deps-registry
	@go run ./internal/demo/cmd/airlock-example

bench: deps
	go test -run '^$$' -bench . -benchmem ./...

# Releases (README: "Releasing airlock"). make release VERSION=vX.Y.Z
# builds every archive and dist/SHA256SUMS; make release-record writes
# release/VERSION and release/SHA256SUMS from dist/; make release-check
# rebuilds the recorded release and compares (TAG=vX.Y.Z also checks that
# the tag is it); make release-licenses rewrites release/LICENSES.md.
.PHONY: release release-record release-verify release-check release-licenses

release:
	@[ -n "$(VERSION)" ] || { echo "usage: make release VERSION=vX.Y.Z"; exit 2; }
	rm -rf dist
	$(RELEASE) build -version "$(VERSION)" -out dist

release-record:
	$(RELEASE) record -dist dist -release release

release-verify:
	$(RELEASE) verify -dist dist -release release -tag "$(TAG)"

release-check:
	$(MAKE) release VERSION="$$(cat release/VERSION)"
	$(MAKE) release-verify

release-licenses:
	$(RELEASE) licenses -o release/LICENSES.md
