# offboarder — make run (the demo) and make test are all a newcomer needs.
SHELL := /bin/bash
GO    ?= go
BIN   := bin/offboarder
RUN   := .run
ADDR  ?= 127.0.0.1:8080
SIM   ?= 127.0.0.1:8089
EMAIL ?= alice@example.com

.PHONY: run build probe test test-faults test-unit lint fuzz bench profile webhook cases manual attest clean deps-test screenshot

# Says so when it builds from scratch or after a change (the first build
# downloads and compiles the dependencies: a minute or two).
build:
	@if [ ! -x $(BIN) ]; then echo "building $(BIN) (the first build takes a minute or two)…"; \
	 elif [ -n "$$(find . \( -path ./bin -o -path ./.git -o -path ./$(RUN) \) -prune -o -type f -newer $(BIN) \
	   \( -name '*.go' -o -name go.mod -o -name go.sum -o -name '*.sql' -o -name '*.html' -o -name '*.css' \) -print -quit)" ]; then \
	   echo "building $(BIN) (sources changed since the last build)…"; fi
	$(GO) build -o $(BIN) ./cmd/offboarder

# The demo's environment: its secrets from $(RUN)/, every connector of
# config.example.yaml pointed at the simulator on $(SIM).
DEMO_ENV = OFFBOARDER_ADMIN_TOKEN=$$(cat $(RUN)/admin-token) HR_WEBHOOK_SECRET=$$(cat $(RUN)/hr-secret) \
	OKTA_API_TOKEN=sim-okta-token OKTA_BASE_URL=http://$(SIM)/okta \
	ENTRA_TENANT_ID=sim-tenant ENTRA_CLIENT_ID=sim-entra-client ENTRA_CLIENT_SECRET=sim-entra-secret \
	ENTRA_BASE_URL=http://$(SIM)/entra ENTRA_TOKEN_URL=http://$(SIM)/entra/sim-tenant/oauth2/v2.0/token \
	AUTH0_BASE_URL=http://$(SIM)/auth0 AUTH0_CLIENT_ID=sim-auth0-client AUTH0_CLIENT_SECRET=sim-auth0-secret \
	KEYCLOAK_BASE_URL=http://$(SIM)/keycloak KEYCLOAK_REALM=demo KEYCLOAK_CLIENT_ID=sim-keycloak-client KEYCLOAK_CLIENT_SECRET=sim-keycloak-secret \
	GOOGLE_BASE_URL=http://$(SIM)/google GOOGLE_ADMIN_EMAIL=admin@example.com \
	ONELOGIN_BASE_URL=http://$(SIM)/onelogin ONELOGIN_CLIENT_ID=sim-onelogin-client ONELOGIN_CLIENT_SECRET=sim-onelogin-secret \
	SLACK_BASE_URL=http://$(SIM)/slack SLACK_TOKEN=sim-slack-token \
	GITHUB_BASE_URL=http://$(SIM)/github GITHUB_ORG=sim-github-org GITHUB_TOKEN=sim-github-token \
	ZOOM_BASE_URL=http://$(SIM)/zoom ZOOM_TOKEN_URL=http://$(SIM)/zoom/oauth/token ZOOM_ACCOUNT_ID=sim-zoom-account ZOOM_CLIENT_ID=sim-zoom-client ZOOM_CLIENT_SECRET=sim-zoom-secret \
	ZENDESK_BASE_URL=http://$(SIM)/zendesk ZENDESK_EMAIL=sim-zendesk-admin@example.com ZENDESK_API_TOKEN=sim-zendesk-token \
	PAGERDUTY_BASE_URL=http://$(SIM)/pagerduty PAGERDUTY_TOKEN=sim-pagerduty-token \
	DROPBOX_BASE_URL=http://$(SIM)/dropbox DROPBOX_TEAM_TOKEN=sim-dropbox-token \
	LUCID_SCIM_BASE_URL=http://$(SIM)/lucid/scim/v2 LUCID_SCIM_TOKEN=sim-lucid-token \
	ATLASSIAN_BASE_URL=http://$(SIM)/atlassian ATLASSIAN_ORG_API_KEY=sim-atlassian-token ATLASSIAN_ORG_ID=sim-atlassian-org \
	SALESFORCE_BASE_URL=http://$(SIM)/salesforce SALESFORCE_CLIENT_ID=sim-salesforce-client SALESFORCE_CLIENT_SECRET=sim-salesforce-secret \
	BOX_BASE_URL=http://$(SIM)/box BOX_CLIENT_ID=sim-box-client BOX_CLIENT_SECRET=sim-box-secret BOX_ENTERPRISE_ID=1000001 \
	AWS_IAM_BASE_URL=http://$(SIM)/aws AWS_ACCESS_KEY_ID=sim-aws-access-key AWS_SECRET_ACCESS_KEY=sim-aws-secret AWS_EC2_METADATA_DISABLED=true AWS_PROFILE= \
	OFFBOARDER_CONFIG=config.example.yaml OFFBOARDER_ADDR=$(ADDR)

# The service on the embedded defaults (SQLite file, in-memory Redis) with the
# built-in SaaS simulator; secrets for the demo are generated once in .run/,
# and the simulator's demo Google key is written to .run/google-sa.json at
# every start (for make probe).
run: build
	@mkdir -p $(RUN)
	@test -s $(RUN)/admin-token || head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n' > $(RUN)/admin-token
	@test -s $(RUN)/hr-secret   || head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n' > $(RUN)/hr-secret
	@echo "admin token: $$(cat $(RUN)/admin-token)   (also in $(RUN)/admin-token)"
	@echo "cases page:  http://$(ADDR)/ui/  (log in with the admin token)"
	@echo "dashboard:   http://$(ADDR)/monitoring/  (any user name, the admin token as password)"
	@echo "next, in another terminal: make webhook EMAIL=alice@example.com   then: make cases"
	$(DEMO_ENV) ./$(BIN) run --simulator $(SIM) --google-credentials $(RUN)/google-sa.json

# Probe every connector of the running demo (make run, in another terminal)
# with the demo's own environment: each one's cheapest authenticated read.
probe: build
	@test -s $(RUN)/google-sa.json || { echo "make probe: $(RUN)/google-sa.json is missing: start the demo first (make run)"; exit 2; }
	@$(DEMO_ENV) GOOGLE_CREDENTIALS="$$(cat $(RUN)/google-sa.json)" ./$(BIN) check --probe

# Send one signed generic webhook to the demo's "hr" source.
webhook:
	@scripts/send-webhook.sh http://$(ADDR)/webhooks/hr "$$(cat $(RUN)/hr-secret)" "$(EMAIL)"

# The demo's cases, through the admin API.
cases: build
	@OFFBOARDER_ADMIN_TOKEN=$$(cat $(RUN)/admin-token) OFFBOARDER_URL=http://$(ADDR) ./$(BIN) cases

# The open manual steps (the demo's: Lucid's "Log out user"), oldest first.
manual: build
	@OFFBOARDER_ADMIN_TOKEN=$$(cat $(RUN)/admin-token) OFFBOARDER_URL=http://$(ADDR) ./$(BIN) cases manual

# Say that a person did a manual step: make attest CASE=<case id> [STEP=lucid-logout] [WHO=…] [NOTE=…]
STEP ?= lucid-logout
WHO  ?= $(USER)
NOTE ?= logged out in the admin panel
attest: build
	@test -n "$(CASE)" || { echo "usage: make attest CASE=<case id> [STEP=$(STEP)] [WHO=name] [NOTE=text]"; exit 2; }
	@OFFBOARDER_ADMIN_TOKEN=$$(cat $(RUN)/admin-token) OFFBOARDER_URL=http://$(ADDR) ./$(BIN) attest "$(CASE)" "$(STEP)" --who "$(or $(WHO),demo)" --note "$(NOTE)"

# Tests start their own redis-server on a free port (never the shared one)
# and use PostgreSQL at 127.0.0.1:5432 where it answers.
test: deps-test lint
	$(GO) test -race -count=1 -timeout 10m ./...

# Fault tests with real processes that take minutes (kill -9 of a worker:
# asynq hands its task on once the lease has been expired for 30 s; kill -9
# of the Redis master under Sentinel).
test-faults: deps-test
	OFFBOARDER_FAULT_TESTS=1 $(GO) test -count=1 -timeout 15m -run 'TestKilledWorker|TestLoadTwoThousand|TestManyProcesses|TestRedisFailover' -v ./e2e/ 2>&1 | grep -E '^(=== RUN|--- |ok|FAIL|PASS)|_test.go' ; exit $${PIPESTATUS[0]}

test-unit:
	$(GO) test -count=1 ./...

deps-test:
	@command -v redis-server >/dev/null || { \
	  echo "make test: redis-server is missing; installing it with apt-get (tests start their own on a free port)"; \
	  (apt-get update -qq && apt-get install -y -qq redis-server) || sudo apt-get install -y -qq redis-server; }
	@command -v redis-sentinel >/dev/null || { \
	  echo "make test: redis-sentinel is missing; installing Debian's redis-sentinel with apt-get (the failover tests start their own sentinels)"; \
	  (apt-get update -qq && apt-get install -y -qq redis-sentinel) || sudo apt-get install -y -qq redis-sentinel; }
	@command -v chromium >/dev/null || command -v chromium-browser >/dev/null || { \
	  echo "make test: chromium is missing; installing Debian's chromium with apt-get (the operators' page is tested in a real browser)"; \
	  (apt-get update -qq && apt-get install -y -qq chromium) || sudo apt-get install -y -qq chromium; }

# The README's picture of a case's page (docs/case-page.png), taken by the
# browser test.
screenshot: deps-test
	UI_SCREENSHOT=$(CURDIR)/docs/case-page.png $(GO) test -count=1 -run '^TestUIInBrowser$$' ./webhook/

# staticcheck installs itself into GOPATH/bin where it is missing, as
# deps-test installs redis-server.
STATICCHECK_VERSION ?= v0.8.2
STATICCHECK := $(shell $(GO) env GOPATH)/bin/staticcheck

lint:
	$(GO) vet ./...
	@test -x $(STATICCHECK) || { \
	  echo "make lint: staticcheck is missing; installing it with go install ($(STATICCHECK_VERSION))"; \
	  $(GO) install honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION); }
	$(STATICCHECK) ./...
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	  if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi

# Go benchmarks of the hot paths (signature check, parse, commit, enqueue,
# the operators' cases page over 10,000 cases),
# then the table of issue 6 — ingest, time to revoke, sustained rate and
# footprint, each next to its floor from the same run — on SQLite and
# PostgreSQL, ingest also through the shipped binary (offboarder serve in
# its own process). PERF_SECONDS sets how long each rate is measured;
# PERF_ONLY=ingest measures the ingest rows only. Timings live here,
# never in the test suite.
BENCHTIME ?= 2s
PERF_SECONDS ?= 5
# The layoff: LAYOFF_LEAVERS in one burst against the six identity providers'
# documented limits, every rate multiplied by LAYOFF_SCALE (1: the
# vendors' own limits; a 2,000-leaver run then takes over an hour).
LAYOFF_LEAVERS ?= 2000
LAYOFF_SCALE ?= 10
bench: deps-test
	$(GO) test -run '^$$' -bench . -benchtime $(BENCHTIME) ./sources/... ./store/ ./webhook/ ./e2e/ | grep -E '^(Benchmark|ok|FAIL|goos|cpu)'
	@mkdir -p bin
	OFFBOARDER_PERF=1 PERF_SECONDS=$(PERF_SECONDS) PERF_OUT=$(CURDIR)/bin/perf-table.md \
	  $(GO) test -count=1 -timeout 30m -run '^TestPerformanceTable$$' ./e2e/
	@cat bin/perf-table.md
	OFFBOARDER_PERF=1 LAYOFF_LEAVERS=$(LAYOFF_LEAVERS) LAYOFF_SCALE=$(LAYOFF_SCALE) LAYOFF_OUT=$(CURDIR)/bin/layoff-table.md \
	  $(GO) test -count=1 -timeout 40m -run '^TestLayoff$$' ./e2e/
	@cat bin/layoff-table.md

# The table with a CPU profile of each sustained run, taken through the
# process's /debug/pprof (admin token), into bin/cpu-<store>.pprof; then the
# top of each. PERF_DB=sqlite or PERF_DB=postgresql measures one store only.
profile: deps-test
	@mkdir -p bin
	OFFBOARDER_PERF=1 PERF_SECONDS=$(PERF_SECONDS) PERF_OUT=$(CURDIR)/bin/perf-table.md PERF_PROFILE_DIR=$(CURDIR)/bin \
	  $(GO) test -count=1 -timeout 30m -run '^TestPerformanceTable$$' ./e2e/
	@cat bin/perf-table.md
	@for p in bin/cpu-*.pprof; do echo "== $$p"; $(GO) tool pprof -top -nodecount 30 $$p 2>/dev/null | sed -n '1,40p'; done

# Every fuzz target for FUZZTIME (default 10s; CI runs 30s), from the seed
# corpus in testdata/fuzz, FUZZ_JOBS targets at a time.
FUZZTIME ?= 10s
FUZZ_JOBS ?= 4
fuzz:
	GO=$(GO) FUZZTIME=$(FUZZTIME) FUZZ_JOBS=$(FUZZ_JOBS) scripts/fuzz.sh

clean:
	rm -rf bin $(RUN) offboarder.db offboarder.db-wal offboarder.db-shm
