# shellcheck shell=bash
# Sourced by scripts/test-laravel.sh, scripts/demo-laravel.sh and scripts/bench-laravel.sh:
# installs the Debian packages if missing and starts, on loopback ports of its own, a
# PostgreSQL 15 cluster and nginx + php-fpm serving laravel/tests/app (the package's host
# app). Configs, data and logs go to $STACK (target/laravel/<name>). `stack_stop` stops
# exactly the processes started here, by their pids; callers set `trap stack_stop EXIT`.

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
APP="$ROOT/laravel/tests/app"
PG_BIN=/usr/lib/postgresql/15/bin
DEBIAN_PACKAGES=(php-cli php-laravel-framework phpunit php-mockery php-sqlite3 php-pgsql php-curl
  php-mbstring php-xml php-guzzlehttp-guzzle php-fpm nginx postgresql)
STACK_PIDS=()
PG_DATA=""

stack_log() { echo "[laravel-stack] $*" >&2; }

stack_install() {
  local missing=()
  for p in "${DEBIAN_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  if ((${#missing[@]})); then
    stack_log "installing ${missing[*]}"
    local sudo=""
    [ "$(id -u)" = 0 ] || sudo=sudo
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
  fi
  PHP_FPM="$(command -v php-fpm8.2 || ls /usr/sbin/php-fpm* 2>/dev/null | head -1)"
}

# A free TCP port on 127.0.0.1 (the kernel picks it).
stack_free_port() {
  php -r '$s = stream_socket_server("tcp://127.0.0.1:0"); echo explode(":", stream_socket_get_name($s, false))[1];'
}

# $1: stack name (a folder under target/laravel). Sets STACK.
stack_prepare() {
  STACK="$ROOT/target/laravel/$1"
  rm -rf "$STACK"
  mkdir -p "$STACK"
  chmod 755 "$ROOT/target" "$ROOT/target/laravel" "$STACK"
}

# Starts PostgreSQL on its own port with a trust-authenticated superuser `possync`
# (loopback only). Sets PG_PORT.
stack_start_postgres() {
  PG_DATA="$STACK/pg"
  PG_PORT="$(stack_free_port)"
  mkdir -p "$PG_DATA" "$STACK/pgsock"
  chown postgres:postgres "$PG_DATA" "$STACK/pgsock"
  runuser -u postgres -- "$PG_BIN/initdb" -D "$PG_DATA" -U possync -A trust --locale=C -E UTF8 >"$STACK/initdb.log" 2>&1
  runuser -u postgres -- "$PG_BIN/pg_ctl" -D "$PG_DATA" -l "$PG_DATA/postgres.log" -w -t 60 \
    -o "-p $PG_PORT -c listen_addresses=127.0.0.1 -c unix_socket_directories=$STACK/pgsock -c fsync=on -c max_connections=100" \
    start >/dev/null
  STACK_PIDS+=("$(head -1 "$PG_DATA/postmaster.pid")")
  stack_log "PostgreSQL on 127.0.0.1:$PG_PORT (pid ${STACK_PIDS[-1]})"
}

# $1: database name.
stack_create_database() {
  psql -h 127.0.0.1 -p "$PG_PORT" -U possync -d postgres -qc "CREATE DATABASE \"$1\"" >/dev/null
}

# Environment of the host app, for artisan, PHPUnit and php-fpm ($1: database name).
stack_app_env() {
  APP_ENV_VARS=(
    "DB_CONNECTION=pgsql" "DB_HOST=127.0.0.1" "DB_PORT=$PG_PORT" "DB_DATABASE=$1" "DB_USERNAME=possync"
    "POS_SYNC_APP_STORAGE=$STACK/storage" "CACHE_DRIVER=file" "QUEUE_CONNECTION=database"
    "POS_SYNC_JSON_ERRORS_EVERYWHERE=1" "POS_SYNC_ADMIN_TOKEN=$ADMIN_TOKEN"
    "POS_SYNC_RATE_LIMIT=${POS_SYNC_RATE_LIMIT:-100000}" "LOG_CHANNEL=single"
  )
}

stack_artisan() {
  env "${APP_ENV_VARS[@]}" php "$APP/artisan" "$@"
}

# Starts php-fpm ($FPM_WORKERS static children, as www-data) and nginx in front of it.
# Sets SERVER_URL.
stack_start_web() {
  local fpm_port web_port
  fpm_port="$(stack_free_port)"
  web_port="$(stack_free_port)"
  mkdir -p "$STACK/storage" "$STACK/nginx"
  chown -R www-data:www-data "$STACK/storage"
  {
    echo "[global]"
    echo "error_log = $STACK/php-fpm.log"
    echo "daemonize = no"
    echo "[pos-sync]"
    echo "user = www-data"
    echo "group = www-data"
    echo "listen = 127.0.0.1:$fpm_port"
    echo "pm = static"
    echo "pm.max_children = ${FPM_WORKERS:-4}"
    echo "clear_env = yes"
    echo "catch_workers_output = yes"
    echo "php_admin_value[post_max_size] = 64M"
    echo "php_admin_value[memory_limit] = 512M"
    echo "php_admin_value[opcache.enable] = 1"
    echo "php_admin_value[opcache.validate_timestamps] = 0"
    for kv in "${APP_ENV_VARS[@]}"; do echo "env[${kv%%=*}] = ${kv#*=}"; done
  } >"$STACK/php-fpm.conf"
  "$PHP_FPM" -y "$STACK/php-fpm.conf" -F >>"$STACK/php-fpm.log" 2>&1 &
  STACK_PIDS+=("$!")
  cat >"$STACK/nginx/nginx.conf" <<NGINX
worker_processes 2;
pid $STACK/nginx/nginx.pid;
error_log $STACK/nginx/error.log warn;
user www-data;
events { worker_connections 256; }
http {
  access_log off;
  client_body_temp_path $STACK/nginx/body;
  fastcgi_temp_path $STACK/nginx/fastcgi;
  proxy_temp_path $STACK/nginx/proxy;
  uwsgi_temp_path $STACK/nginx/uwsgi;
  scgi_temp_path $STACK/nginx/scgi;
  # Above the protocol's 8 MiB, so the app, not nginx, answers 413 in JSON.
  client_max_body_size 64m;
  client_body_buffer_size 1m;
  keepalive_requests 100000;
  server {
    listen 127.0.0.1:$web_port;
    location / {
      include /etc/nginx/fastcgi_params;
      fastcgi_param SCRIPT_FILENAME $APP/public/index.php;
      fastcgi_param SCRIPT_NAME /index.php;
      fastcgi_pass 127.0.0.1:$fpm_port;
      fastcgi_keep_conn on;
    }
  }
}
NGINX
  nginx -c "$STACK/nginx/nginx.conf" -p "$STACK/nginx" -g "daemon off;" >>"$STACK/nginx/error.log" 2>&1 &
  STACK_PIDS+=("$!")
  SERVER_URL="http://127.0.0.1:$web_port"
  for _ in $(seq 1 100); do
    curl -s -o /dev/null "$SERVER_URL/" && break
    sleep 0.1
  done
  stack_log "nginx on $SERVER_URL, php-fpm (${FPM_WORKERS:-4} workers) on 127.0.0.1:$fpm_port"
}

# Registers devices ("STORE DEVICE" arguments) and sets TEST_TOKENS ("TOKEN DEVICE STORE; ...").
stack_create_devices() {
  TEST_TOKENS=""
  local store device token
  while (($#)); do
    store="$1" device="$2"
    shift 2
    token="$(stack_artisan pos-sync:device create --store="$store" --device="$device" --plain)"
    TEST_TOKENS+="$token $device $store;"
  done
}

stack_stop() {
  local status=$?
  local pid
  # nginx and php-fpm first (they were started last), then PostgreSQL.
  for ((i = ${#STACK_PIDS[@]} - 1; i >= 0; i--)); do
    pid="${STACK_PIDS[i]}"
    if kill -0 "$pid" 2>/dev/null; then
      if [ -n "$PG_DATA" ] && [ "$pid" = "$(head -1 "$PG_DATA/postmaster.pid" 2>/dev/null)" ]; then
        runuser -u postgres -- "$PG_BIN/pg_ctl" -D "$PG_DATA" -m fast -w stop >/dev/null 2>&1 || kill "$pid"
      else
        kill -TERM "$pid" 2>/dev/null || true
        for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
      fi
    fi
  done
  STACK_PIDS=()
  return $status
}
