# slabot — see README.md. Every target that needs PostgreSQL starts a
# throwaway server (scripts/pg.sh) unless DATABASE_URL / TEST_DATABASE_URL is set.
GO       ?= go
PKGS     ?= ./...
BIN      := bin/slabot

.PHONY: all build test test-race test-oracle test-core vet bench bench-scale soak demo run migrate clean fmt teams-package vulncheck

all: build

build:
	$(GO) build -o $(BIN) ./cmd/slabot

vet:
	$(GO) vet $(PKGS)

# go vet, then every test against a real PostgreSQL, without the race
# detector: the check to run before each commit. Tests that own their data
# run in parallel, 4 at a time within a package (most wait on sockets and
# PostgreSQL, not the CPU). 30 minutes a package keeps go test's 10-minute
# default from cutting a package off on a busy machine. go test's own vet
# checks are off: make vet has just run all of them.
TEST_FLAGS ?= -count=1 -parallel=4 -timeout=30m -vet=off

test: vet
	@if [ -n "$$TEST_DATABASE_URL" ]; then \
		$(GO) test $(TEST_FLAGS) $(PKGS); \
	else \
		scripts/pg.sh run -- $(GO) test $(TEST_FLAGS) $(PKGS); \
	fi

# The same tests under the race detector, which costs them about twice the
# CPU (2¼–2¾ minutes here against about 1½): .ci/run runs it after make test.
# Tests that play a story against deadlines in real time play it slower
# under it (cmd/slabot's race_on_test.go).
test-race:
	$(MAKE) test TEST_FLAGS="-race $(TEST_FLAGS)"

# The oracle tests of the SQL figures (storage, storage/benchgen) on the
# 20,000-lead history on 50 teams that make test used before; make test
# runs them on 6,000 leads on 10 teams (SLABOT_ORACLE_LEADS).
ORACLE_LEADS ?= 20000
test-oracle: vet
	@if [ -n "$$TEST_DATABASE_URL" ]; then \
		SLABOT_ORACLE_LEADS=$(ORACLE_LEADS) $(GO) test $(TEST_FLAGS) ./storage/ ./storage/benchgen/; \
	else \
		scripts/pg.sh run -- env SLABOT_ORACLE_LEADS=$(ORACLE_LEADS) $(GO) test $(TEST_FLAGS) ./storage/ ./storage/benchgen/; \
	fi

# The core's tests (commands, actions, notifications through bot/bottest,
# and the engine) without the race detector: the inner loop while changing
# what the bot says or decides.
test-core:
	scripts/pg.sh run -- $(GO) test -count=1 ./bot/ ./engine/

# Benchmarks only (no tests), against a real PostgreSQL, connected to
# directly: the tests' session pool (storage/pgpool) would add its hop to
# every query a benchmark times.
bench:
	@if [ -n "$$TEST_DATABASE_URL" ]; then \
		SLABOT_TEST_POOL=off $(GO) test -run='^$$' -bench=. -benchmem $(PKGS); \
	else \
		scripts/pg.sh run -- env SLABOT_TEST_POOL=off $(GO) test -run='^$$' -bench=. -benchmem $(PKGS); \
	fi

# The scale benchmarks of issue 14 on a generated history (storage/benchgen):
# SCALE_LEADS leads over 12 months, 500 reps in 50 teams. Generated once per
# server into schema bench_<SCALE_LEADS> (about 2.5 minutes for 1,000,000, their
# per-lead figures included), so both
# packages run against one throwaway server.
SCALE_LEADS ?= 1000000
SCALE_BENCH = SLABOT_TEST_POOL=off SLABOT_BENCH_LEADS=$(SCALE_LEADS) $(GO) test -run="^$$" -bench="^BenchmarkScale(Scorecard)?$$" -benchtime=1x -timeout=2h ./bot/slack/ && \
	SLABOT_TEST_POOL=off SLABOT_BENCH_LEADS=$(SCALE_LEADS) $(GO) test -run="^$$" -bench="^BenchmarkScale(Loaders|Queries|Replay|Scorecard|Review)$$" -benchtime=1x -timeout=2h ./storage/benchgen/

bench-scale:
	@if [ -n "$$TEST_DATABASE_URL" ]; then \
		$(SCALE_BENCH); \
	else \
		scripts/pg.sh run -- sh -c '$(SCALE_BENCH)'; \
	fi

# The soak (issue 15), not part of `make test`: two `slabot run` replicas,
# 2,000 hand-offs and 2,000 clicks through kill -9, PostgreSQL restarts,
# dropped Socket Mode connections and 30% failing Slack calls. Starts and
# restarts its own PostgreSQL; takes 5-8 minutes.
soak:
	$(GO) vet -tags soak ./cmd/slabot/
	$(GO) test -tags soak -run TestSoak -count=1 -timeout 30m -v ./cmd/slabot/

# The bot against a real Slack workspace; settings from the environment.
run: build
	@if [ -n "$$DATABASE_URL" ]; then \
		$(BIN) run; \
	else \
		scripts/pg.sh run -- $(BIN) run; \
	fi

demo: build
	$(BIN) demo $(DEMO_FLAGS)

migrate: build
	$(BIN) migrate

# The Microsoft Teams app package to upload to the org catalog: the manifest
# of manifests/teams with TEAMS_APP_ID (a GUID, required) filled in, and its
# icons. Written by a Go program, so no zip binary is needed.
teams-package:
	$(GO) run ./scripts/teamspkg -manifest manifests/teams -out bin/slabot-teams.zip

# govulncheck, from the module proxy, over every package, as built by the
# toolchain go.mod names (the release's Go; VULNCHECK_TOOLCHAIN=local checks
# this machine's own). VULNDB=file:///DIR reads a copy of the Go
# vulnerability database; VULNDB=proxy first builds one in bin/vulndb from
# golang.org/x/vulndb as the module proxy serves it (a few minutes), for a
# machine that cannot reach vuln.go.dev. Exit status 3: something affects us.
GOVULNCHECK         ?= golang.org/x/vuln/cmd/govulncheck@v1.9.0
VULNDB_VERSION      ?= v0.0.0-20261105234957-e22db6528018
VULNCHECK_TOOLCHAIN ?= $(shell sed -n 's/^toolchain //p' go.mod)
VULNDB              ?=

vulncheck:
	@db="$(VULNDB)"; \
	if [ "$$db" = proxy ]; then \
		src=$$(GOFLAGS= $(GO) mod download -json golang.org/x/vulndb@$(VULNDB_VERSION) | sed -n 's/.*"Dir": "\(.*\)",*/\1/p') && \
		rm -rf bin/vulndb && mkdir -p bin/vulndb/repo && cp -r "$$src/data" bin/vulndb/repo/ && chmod -R u+w bin/vulndb && \
		git -C bin/vulndb/repo init -q && git -C bin/vulndb/repo add -A && \
		git -C bin/vulndb/repo -c user.name=slabot -c user.email=vulncheck@localhost commit -qm "vulndb $(VULNDB_VERSION)" && \
		GOFLAGS= $(GO) run golang.org/x/vulndb/cmd/gendb@$(VULNDB_VERSION) -repo bin/vulndb/repo -out bin/vulndb/db && \
		db=file://$(CURDIR)/bin/vulndb/db || exit 1; \
	fi; \
	GOTOOLCHAIN=$(or $(VULNCHECK_TOOLCHAIN),local) GOFLAGS= $(GO) run $(GOVULNCHECK) $${db:+-db $$db} ./...

fmt:
	gofmt -w $$(git ls-files '*.go')

clean:
	rm -rf bin
