#!/usr/bin/env bash
# `make demo SERVER=laravel`: the README's demo (examples/demo.rs) played against the
# pos-sync/laravel package on nginx + php-fpm + PostgreSQL, started and stopped here.
set -euo pipefail
source "$(dirname "$0")/laravel-stack.sh"
trap stack_stop EXIT

stack_install
stack_prepare demo
ADMIN_TOKEN="adm_$(head -c 18 /dev/urandom | od -An -tx1 | tr -d ' \n')"
stack_start_postgres
stack_create_database demo
stack_app_env demo
mkdir -p "$STACK/storage"
stack_artisan migrate --force >/dev/null
stack_create_devices LISBON-01 till-R1 LISBON-01 till-R2
FPM_WORKERS=2 stack_start_web
tokens="$(echo "$TEST_TOKENS" | tr ';' '\n' | awk 'NF {print $1}' | paste -sd' ')"
POS_SYNC_DEMO_SERVER_URL="$SERVER_URL" POS_SYNC_DEMO_ADMIN_TOKEN="$ADMIN_TOKEN" POS_SYNC_DEMO_TOKENS="$tokens" \
  cargo run --quiet --example demo
