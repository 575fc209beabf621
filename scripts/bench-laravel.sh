#!/usr/bin/env bash
# Runs a benchmark command with the pos-sync/laravel package served by nginx + php-fpm +
# PostgreSQL beside it (started here, stopped on exit), so benches/e2e.rs adds its Laravel
# rows to the same run as the reference server's:
#   scripts/bench-laravel.sh cargo bench --bench e2e -- --write-docs     (what `make bench` runs)
#   scripts/bench-laravel.sh                                             (upload, download, laravel only)
set -euo pipefail
source "$(dirname "$0")/laravel-stack.sh"
trap stack_stop EXIT

stack_install
stack_prepare bench
ADMIN_TOKEN="adm_$(head -c 18 /dev/urandom | od -An -tx1 | tr -d ' \n')"
stack_start_postgres
stack_create_database bench
stack_app_env bench
mkdir -p "$STACK/storage"
stack_artisan migrate --force >/dev/null
# The harness's own device tokens (benches/e2e.rs DEVICES), imported.
echo t-lv-upload | stack_artisan pos-sync:device create --store=LVUP --device=till-lv-up --token-stdin --plain >/dev/null
echo t-lv-download | stack_artisan pos-sync:device create --store=LVDL --device=till-lv-dl --token-stdin --plain >/dev/null
export FPM_WORKERS="${FPM_WORKERS:-4}"
stack_start_web
export POS_SYNC_BENCH_LARAVEL_URL="$SERVER_URL" POS_SYNC_BENCH_LARAVEL_ADMIN="$ADMIN_TOKEN" \
  POS_SYNC_BENCH_LARAVEL_WORKERS="$FPM_WORKERS"
cd "$ROOT"
if (($#)); then
  "$@"
else
  cargo bench --bench e2e -- --only=upload,download,laravel
fi
