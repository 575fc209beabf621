# The commands a newcomer needs (see README.md). Each target installs what it needs.
.PHONY: demo test lint test-rust test-kotlin test-swift test-plugin bench bench-quick bindings clean

CARGO ?= cargo

## demo: build, start the reference server on an embedded SQLite database, play a day of two tills
demo:
	$(CARGO) run --quiet --example demo

## test: every check and test in the repository (what CI runs)
test: lint test-rust bench-quick test-kotlin test-swift test-plugin

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

## bench: the benchmarks at full size (several minutes; release build): criterion for the
## till's local paths, then the end-to-end harness; prints the table, rewrites docs/benchmarks.md
bench:
	$(CARGO) bench --bench local
	$(CARGO) build --release --lib
	$(CARGO) bench --bench e2e -- --write-docs

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
