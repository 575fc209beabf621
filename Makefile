# The commands a newcomer needs (see README.md). Each target installs what it needs.
.PHONY: demo test lint test-rust test-kotlin test-swift test-plugin bench bench-quick bindings clean

CARGO ?= cargo

## demo: build, start the reference server on an embedded SQLite database, play a day of two tills
## (SERVER=laravel: the same day against the Laravel package on nginx + php-fpm + PostgreSQL)
SERVER ?= reference
demo:
ifeq ($(SERVER),laravel)
	scripts/demo-laravel.sh
else
	$(CARGO) run --quiet --example demo
endif

## test: every check and test in the repository (what CI runs)
test: lint test-rust bench-quick test-kotlin test-swift test-plugin test-web test-till-app fuzz-smoke test-laravel

## lint: rustfmt and clippy with warnings denied
lint:
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings

## test-rust: unit, integration and conformance tests of the core, engine and server
test-rust:
	$(CARGO) test --workspace

## test-kotlin: JVM tests of the Kotlin bindings and the Android library's plain Kotlin (Maven, JUnit 5) against the reference server
test-kotlin:
	scripts/test-kotlin.sh

## test-swift: the Swift package's tests on Linux, against the reference server (installs the
## Swift toolchain into a Debian 13 root under /opt on first use, about a minute or three)
test-swift:
	scripts/swift-linux.sh test

## test-plugin: the Capacitor plugin: npm ci, lint, build (docgen, tsc, rollup), vitest (TypeScript types against the engine's records), the Android plugin's JVM tests
test-plugin:
	scripts/test-plugin.sh

.PHONY: test-web bench-web

## test-web: the plugin's web build (the core on WebAssembly, OPFS) in headless Chromium against
## the reference server; builds the .wasm first (scripts/build-web.sh; docs/web.md)
test-web:
	scripts/test-web.sh

.PHONY: test-till-app demo-web

## test-till-app: the example till (examples/till-app) end to end in headless Chromium against the
## reference server: offline sales, sync, a customer conflict resolved in its UI; screenshots in
## target/screenshots/ (reuses the plugin's .wasm when test-web built it)
test-till-app:
	scripts/till-app.sh test

## demo-web: the reference server with a demo catalog and customers, and the till app in front
## of it; prints the URL to open (Ctrl-C stops both)
demo-web:
	scripts/till-app.sh demo

## bench-web: the browser benchmark (engine beside raw rusqlite on the same OPFS) in Chromium
bench-web:
	scripts/test-web.sh --bench --full

.PHONY: reliability test-reliability-quick fuzz fuzz-smoke test-encryption

## test-reliability-quick: the reliability campaigns at quick size (test-rust runs them too)
test-reliability-quick:
	$(CARGO) test --test reliability --test reliability_logs

## reliability: the reliability campaigns at full size (docs/reliability.md): 200 SIGKILLs,
## 10k changes through network faults, long property runs; results in target/tmp/
reliability:
	POS_SYNC_RELIABILITY=full $(CARGO) test --test reliability --test reliability_logs -- --nocapture --test-threads=1
	@grep -h "\[full\]" target/tmp/reliability-results.txt | tail -n 12

## test-encryption: SQLCipher encryption at rest (cargo feature `encryption`); builds OpenSSL
## from source (about 4 extra minutes on 2 cores), so `make test` does not run it
test-encryption:
	$(CARGO) test --features encryption --test encryption --test cli --test reliability -- --nocapture

FUZZ_SECONDS ?= 300
## fuzz: the cargo-fuzz (libFuzzer) targets, FUZZ_SECONDS each; needs a nightly toolchain
fuzz:
	command -v cargo-fuzz >/dev/null || $(CARGO) install cargo-fuzz --locked
	rustup toolchain list | grep -q '^nightly' || rustup toolchain install nightly --profile minimal
	cd fuzz && for t in answers documents; do \
	  cargo +nightly fuzz run -O $$t corpus/$$t -- -max_total_time=$(FUZZ_SECONDS) || exit 1; done

## fuzz-smoke: the fuzz targets for 10 s each
fuzz-smoke:
	$(MAKE) fuzz FUZZ_SECONDS=10

## bench: the benchmarks at full size (several minutes; release build): criterion for the
## till's local paths, then the end-to-end harness, with the Laravel package's rows (scripts/bench-laravel.sh
## starts nginx + php-fpm + PostgreSQL beside it); prints the table, rewrites docs/benchmarks.md
bench:
	$(CARGO) bench --bench local
	$(CARGO) build --release --lib
	scripts/bench-laravel.sh $(CARGO) bench --bench e2e -- --write-docs
	$(MAKE) bench-web

## bench-quick: the same harness at small sizes in a debug build (under a minute), so it
## cannot rot; figures are printed, never judged
bench-quick:
	$(CARGO) test --bench local
	$(CARGO) test --bench e2e

## bindings: generate the Kotlin and Swift bindings from the built library
bindings:
	scripts/generate-bindings.sh all

clean:
	$(CARGO) clean
	rm -rf android/build android/jvm-tests/target ios/build ios/.build ios/Sources/PosSync/Generated
	rm -rf capacitor-plugin/dist capacitor-plugin/build capacitor-plugin/android/jvm-tests/target capacitor-plugin/android/jvm-tests/compile-check/target

.PHONY: test-laravel demo-laravel bench-laravel

## test-laravel: the pos-sync/laravel package (laravel/): PHPUnit on SQLite and PostgreSQL, then the
## conformance suite and the concurrency test against it on nginx + php-fpm + PostgreSQL (about 75 s;
## installs the Debian packages if missing; everything on loopback ports of its own, stopped on exit)
test-laravel:
	scripts/test-laravel.sh

## demo-laravel: `make demo` played against the Laravel package
demo-laravel:
	scripts/demo-laravel.sh

## bench-laravel: upload and download throughput of the Laravel package beside the reference server,
## same run; writes the Laravel rows of docs/benchmarks.md
bench-laravel:
	scripts/bench-laravel.sh
