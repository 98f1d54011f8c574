# credtrail — the two commands of a fresh machine are `make demo` and `make test`.
GO       ?= go
BIN      := bin/credtrail
OUT      ?= out
VERSION  ?= $(shell cat VERSION 2>/dev/null || git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS  := -X main.version=$(VERSION)

.PHONY: build install test demo bench bench-large bench-usage golden sample-large clean fuzz-short dist dist-check

build:
	$(GO) build -ldflags "$(LDFLAGS)" -o $(BIN) ./cmd/credtrail

# Unit, golden and end-to-end tests. Tests that need what a machine may lack
# (the public corpus in ../shared/corpus, LibreOffice's soffice, pdftotext)
# skip themselves; the skipped ones are listed at the end, with the reason.
# The whole verbose log is kept in $(OUT)/test.log.
test:
	$(GO) vet ./...
	@mkdir -p $(OUT)
	@{ $(GO) test -count=1 -timeout 40m -v ./... 2>&1; echo "go-test-exit $$?"; } | tee $(OUT)/test.log | awk -f .ci/test-summary.awk

# Puts the binary on PATH: $(PREFIX)/bin/credtrail (PREFIX=/usr/local; DESTDIR for packaging).
PREFIX  ?= /usr/local
install: build
	install -d $(DESTDIR)$(PREFIX)/bin
	install -m 0755 $(BIN) $(DESTDIR)$(PREFIX)/bin/credtrail

# The whole job on the committed sample case: ingest, analyze, workbook.
demo: build
	@mkdir -p $(OUT)
	@rm -f $(OUT)/demo.duckdb $(OUT)/demo.duckdb.wal $(OUT)/demo.xlsx
	$(BIN) ingest $(OUT)/demo.duckdb samples/case/AWSLogs samples/case/iam samples/case/cloudtrail-public-keys.json samples/case/cloudtrail-digest-metadata
	$(BIN) verify $(OUT)/demo.duckdb
	$(BIN) analyze $(OUT)/demo.duckdb
	$(BIN) report $(OUT)/demo.duckdb -o $(OUT)/demo.xlsx
	@echo "demo: case $(OUT)/demo.duckdb, workbook $(OUT)/demo.xlsx; the planted facts are in samples/case/expected.json"

# A large generated case for benchmarks (not committed).
sample-large: build
	$(BIN) samples generate $(OUT)/sample-large --events-per-day 100000 --days 30

# The performance table (docs/performance.md): on one generated archive of 1M
# events (kept in $(OUT)/bench), the floors (parallel gunzip, gunzip + JSON
# tokenize), DuckDB's bare read_json load, jq when installed, and credtrail
# ingest, analyze, report, policy, timeline and run, each 3 times alternating,
# medians printed with the ratios to the bare load and to the floor, and
# $(OUT)/bench/bench.json. Reuse an archive: make bench BENCHFLAGS='-archive DIR'.
BENCHFLAGS ?=
bench: build
	$(GO) run ./cmd/credtrail-bench -bin $(BIN) -dir $(OUT)/bench -events 1M $(BENCHFLAGS)

# The same on 10M events (a 1.5 GB archive; generating it takes minutes).
bench-large: build
	$(GO) run ./cmd/credtrail-bench -bin $(BIN) -dir $(OUT)/bench -events 10M $(BENCHFLAGS)

# Sample generation speed, and the unused-permissions analysis on a
# 3M-event case of 500 principals.
bench-usage: build
	$(GO) test ./samples -run '^$$' -bench BenchmarkGenerate -benchtime 3x
	$(GO) run ./cmd/credtrail-bench -bin $(BIN) -dir $(OUT)/bench -usage-principals 500 -events-per-day 100000 -days 30 -accounts 1

# Every Go fuzz target (func FuzzX in a _test.go file) for FUZZTIME each,
# one worker at a time; a failing input is written under the package's
# testdata/fuzz/FuzzX and the run stops. Long runs: make fuzz-short FUZZTIME=10m.
FUZZTIME ?= 20s
fuzz-short:
	@for dir in $$(grep -rl --include='*_test.go' '^func Fuzz' . | xargs -n1 dirname | sort -u); do \
	  for name in $$(grep -ho '^func Fuzz[A-Za-z0-9_]*' $$dir/*_test.go | sed 's/^func //' | sort); do \
	    echo "$$dir $$name"; \
	    $(GO) test -run '^$$' -fuzz "^$$name\$$" -fuzztime $(FUZZTIME) -fuzzminimizetime 5s -parallel 1 $$dir || exit 1; \
	  done; \
	done

# Release archives in dist/: one per platform whose C toolchain this machine
# has (the others are listed as skipped, with what to install), a source
# archive with the modules vendored, SHA256SUMS and a CycloneDX SBOM per
# binary. dist-check verifies them and runs the linux/amd64 binary on the
# sample case, and builds the source archive with no network.
DIST_TARGETS ?= linux/amd64,linux/arm64,windows/amd64,darwin/amd64,darwin/arm64
dist:
	$(GO) run ./cmd/credtrail-dist -version $(VERSION) -out dist -targets $(DIST_TARGETS)

dist-check:
	.ci/dist-check dist

# Refresh golden files after a reviewed change.
golden:
	$(GO) test ./... -run 'Golden|Corpus' -update

clean:
	rm -rf bin dist $(OUT)
