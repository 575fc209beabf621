#!/usr/bin/env bash
# `make test-laravel`: the pos-sync/laravel package's PHPUnit suite on SQLite and on
# PostgreSQL, then the Rust conformance suite and the concurrency test against the package
# served by nginx + php-fpm on PostgreSQL. Everything runs on loopback ports of its own and
# is stopped by pid on exit, also on failure. Set LARAVEL_CONCURRENCY_BATCHES for a longer run.
set -euo pipefail
source "$(dirname "$0")/laravel-stack.sh"
trap stack_stop EXIT

stack_install
stack_prepare test
ADMIN_TOKEN="adm_$(head -c 18 /dev/urandom | od -An -tx1 | tr -d ' \n')"
stack_start_postgres

stack_log "PHPUnit on SQLite"
(cd "$ROOT/laravel" && POS_SYNC_APP_STORAGE="$STACK/phpunit-storage" DB_CONNECTION=sqlite phpunit --colors=never)
stack_log "PHPUnit on PostgreSQL"
stack_create_database phpunit
(cd "$ROOT/laravel" && POS_SYNC_APP_STORAGE="$STACK/phpunit-storage" DB_CONNECTION=pgsql DB_HOST=127.0.0.1 \
  DB_PORT="$PG_PORT" DB_DATABASE=phpunit DB_USERNAME=possync phpunit --colors=never)

stack_create_database server
stack_app_env server
mkdir -p "$STACK/storage"
stack_artisan migrate --force >/dev/null
stack_create_devices store-a till-a1 store-a till-a2 store-b till-b1
CONFORMANCE_TOKENS="$TEST_TOKENS"
devices=()
for i in $(seq 1 10); do devices+=(store-c "up-c$i" store-d "up-d$i"); done
devices+=(store-c down-c1 store-c down-c2 store-c down-c3 store-d down-d1 store-d down-d2)
stack_create_devices "${devices[@]}"
CONCURRENCY_TOKENS="$TEST_TOKENS"
FPM_WORKERS=4 stack_start_web

stack_log "conformance suite against $SERVER_URL"
POS_SYNC_SERVER_URL="$SERVER_URL" POS_SYNC_TEST_TOKENS="$CONFORMANCE_TOKENS" POS_SYNC_ADMIN_TOKEN="$ADMIN_TOKEN" \
  cargo test -q -p pos-sync-server --test conformance

stack_log "concurrency test: 20 devices uploading, 5 downloading"
php "$ROOT/laravel/tests/concurrency/run.php" "$SERVER_URL" "$ADMIN_TOKEN" "$CONCURRENCY_TOKENS" "${LARAVEL_CONCURRENCY_BATCHES:-6}"
