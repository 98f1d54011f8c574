# credtrail — the two commands of a fresh machine are `make demo` and `make test`.
GO       ?= go
BIN      := bin/credtrail
OUT      ?= out
VERSION  ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS  := -X main.version=$(VERSION)

.PHONY: build test demo bench golden sample-large clean

build:
	$(GO) build -ldflags "$(LDFLAGS)" -o $(BIN) ./cmd/credtrail

# Unit, golden and end-to-end tests; the corpus tests run when ../shared/corpus exists.
test:
	$(GO) vet ./...
	$(GO) test -count=1 ./...

# The whole job on the committed sample case.
demo: build
	@mkdir -p $(OUT)
	@rm -f $(OUT)/demo.duckdb $(OUT)/demo.duckdb.wal
	$(BIN) ingest $(OUT)/demo.duckdb samples/case/AWSLogs samples/case/iam
	$(BIN) query $(OUT)/demo.duckdb "select kind, status, count(*) as files, sum(records) as records from evidence_files group by all order by all"
	@echo "demo case written to $(OUT)/demo.duckdb (explore it with: $(BIN) query $(OUT)/demo.duckdb \"select ...\")"

# A large generated case for benchmarks (not committed).
sample-large: build
	$(BIN) samples generate $(OUT)/sample-large --events-per-day 100000 --days 30

# Throughput and memory of ingest on a generated archive.
bench: build
	$(GO) run ./cmd/credtrail-bench -bin $(BIN) -dir $(OUT)/bench

# Refresh golden files after a reviewed change.
golden:
	$(GO) test ./... -run 'Golden|Corpus' -update

clean:
	rm -rf bin $(OUT)
