#!/usr/bin/env bash
# Swift on Linux for pos-sync. Debian 12 has no Swift; Debian 13 (trixie) has `swiftlang`,
# which needs a newer glibc than the host's. So the toolchain lives in a trixie root made by
# debootstrap OUTSIDE the repository (default /opt/pos-sync-swift-root), installed once and
# reused by later runs on the same machine. Commands run in it with a clean environment, in a
# private mount namespace (unshare), with the repository bind-mounted at the same absolute
# path, so paths to the host-built library are valid inside and outside.
#
#   scripts/swift-linux.sh install     install the toolchain if it is missing or half-finished
#   scripts/swift-linux.sh test [ARGS] build the Rust library + Swift bindings on the host,
#                                      then `swift test ARGS` in ios/ (what `make test-swift` runs)
#   scripts/swift-linux.sh run CMD...  run CMD inside the root, in the repository directory
#
# Environment: POS_SYNC_SWIFT_ROOT (the root's location), DEBIAN_MIRROR (default: the host's
# apt mirror). Needs root (debootstrap, chroot, mounts). The first install downloads ~600 MB
# and takes about 3 minutes; afterwards a stamp file makes `install` a no-op.
set -euo pipefail

repo="$(cd "$(dirname "$0")/.." && pwd -P)"
root="${POS_SYNC_SWIFT_ROOT:-/opt/pos-sync-swift-root}"
# Bump when the set of packages inside the root changes: older roots are then rebuilt.
stamp_version="1 swiftlang libc6-dev"
stamp="$root/.pos-sync-swift-ready"

log() { echo "swift-linux: $*" >&2; }
die() { log "$*"; exit 1; }

[ "$(id -u)" = 0 ] || die "needs root (debootstrap, chroot and mounts); run it as root or in CI's container"

host_mirror() {
  if [ -n "${DEBIAN_MIRROR:-}" ]; then echo "$DEBIAN_MIRROR"; return; fi
  local m=""
  if [ -f /etc/apt/sources.list.d/debian.sources ]; then
    m="$(awk '/^URIs:/ && $2 !~ /security/ {print $2; exit}' /etc/apt/sources.list.d/debian.sources)"
  fi
  if [ -z "$m" ] && [ -f /etc/apt/sources.list ]; then
    m="$(awk '$1 == "deb" && $0 !~ /security/ {for (i = 2; i <= NF; i++) if ($i ~ /^https?:/) {print $i; exit}}' /etc/apt/sources.list)"
  fi
  echo "${m:-http://deb.debian.org/debian}"
}

is_ready() {
  [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$stamp_version" ] &&
    [ -x "$root/usr/libexec/swift/bin/swift-frontend" ] && [ -f "$root/usr/include/stdio.h" ]
}

# Runs a command inside the root. The mounts live in a private mount namespace, so the kernel
# drops them however the command ends; --kill-child ends leftovers with it.
in_root() {
  local workdir="$1"; shift
  mkdir -p "$root$repo" "$root/proc" "$root/dev/pts" "$root/dev/shm" "$root/tmp"
  unshare --mount --pid --fork --kill-child --propagation private -- /bin/sh -eu -c '
    root="$1"; repo="$2"; workdir="$3"; shift 3
    mount -t proc proc "$root/proc"
    mount --bind /dev/pts "$root/dev/pts"
    mount -t tmpfs tmpfs "$root/dev/shm"
    for d in null zero full random urandom tty; do
      [ -e "$root/dev/$d" ] || { touch "$root/dev/$d"; }
      mount --bind "/dev/$d" "$root/dev/$d"
    done
    mount --bind "$repo" "$root$repo"
    for extra in ${POS_SYNC_EXTRA_BINDS:-}; do
      mkdir -p "$root$extra"
      mount --bind "$extra" "$root$extra"
    done
    exec chroot "$root" /usr/bin/env -i \
      PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
      HOME=/root LANG=C.UTF-8 TERM=dumb DEBIAN_FRONTEND=noninteractive \
      ${POS_SYNC_PASS_ENV:-} \
      /bin/sh -c "cd \"\$0\" && exec \"\$@\"" "$workdir" "$@"
  ' sh "$root" "$repo" "$workdir" "$@"
}

install_root() {
  if is_ready; then return 0; fi
  mkdir -p "$(dirname "$root")"
  # One installer at a time (CI jobs or two engineers on one machine).
  exec 9>"$root.lock"
  flock 9
  if is_ready; then return 0; fi
  local started=$SECONDS mirror
  mirror="$(host_mirror)"
  if [ -e "$root" ]; then
    log "removing the half-finished root $root"
    # Bind mounts only ever exist inside private namespaces, but never follow one anyway.
    if grep -q " $root/" /proc/self/mountinfo; then die "$root has mounts; unmount them first"; fi
    rm -rf --one-file-system "$root"
  fi
  if ! command -v debootstrap >/dev/null; then
    log "installing debootstrap on the host"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends debootstrap >/dev/null
  fi
  log "debootstrap trixie into $root from $mirror (about a minute)"
  debootstrap --variant=minbase trixie "$root" "$mirror" >"$root.debootstrap.log" 2>&1 ||
    { tail -n 20 "$root.debootstrap.log" >&2; die "debootstrap failed (log: $root.debootstrap.log)"; }
  echo 'Acquire::Check-Valid-Until "false";' >"$root/etc/apt/apt.conf.d/99pos-sync"
  cp /etc/resolv.conf "$root/etc/resolv.conf" 2>/dev/null || true
  log "installing swiftlang and libc6-dev in the root (about 530 MB, a minute or two)"
  in_root / /bin/sh -c 'apt-get update -qq && apt-get install -y -qq --no-install-recommends swiftlang libc6-dev >/tmp/apt.log 2>&1 || { tail -n 30 /tmp/apt.log; exit 1; }'
  [ -x "$root/usr/libexec/swift/bin/swift-frontend" ] || die "swift-frontend is missing after the install"
  in_root / apt-get clean
  echo "$stamp_version" >"$stamp"
  log "toolchain ready in $((SECONDS - started)) s: $(in_root / swift --version 2>&1 | head -n 1)"
}

cmd="${1:-test}"
[ $# -gt 0 ] && shift
case "$cmd" in
  install)
    install_root
    ;;
  run)
    install_root
    in_root "$repo" "$@"
    ;;
  test)
    install_root
    # Host side: the library and the bindings the Swift package compiles against, and the
    # reference server the tests start on loopback.
    "$repo/scripts/generate-bindings.sh" swift
    (cd "$repo" && cargo build --quiet -p pos-sync-server)
    # Swift side. The test binary links libpos_sync.so from the cargo target directory (modulemap
    # `link "pos_sync"` + these -L/rpath flags): passed on the command line, not as unsafeFlags
    # in the manifest, so the manifest stays usable as a dependency.
    target_dir="${CARGO_TARGET_DIR:-$repo/target}"
    case "$target_dir" in /*) ;; *) target_dir="$repo/$target_dir" ;; esac
    mkdir -p "$target_dir"
    target_dir="$(cd "$target_dir" && pwd -P)"
    case "$target_dir/" in
      "$repo"/*) ;;
      *) export POS_SYNC_EXTRA_BINDS="$target_dir" ;;  # visible inside the root too
    esac
    libdir="$target_dir/debug"
    server="$libdir/pos-sync-server"
    export POS_SYNC_PASS_ENV="POS_SYNC_SERVER_BIN=$server"
    # The Apple-only files (BGTaskScheduler, NWPathMonitor) are skipped by `swift test` here;
    # type-check the whole module against stubs of those APIs (ios/Tests/AppleAPIStubs).
    in_root "$repo/ios" /bin/sh -ec '
      out=.build/apple-api-stubs
      mkdir -p "$out"
      for m in BackgroundTasks Network os; do
        swiftc -parse-as-library -swift-version 6 -module-name "$m" -emit-module \
          -emit-module-path "$out/$m.swiftmodule" "Tests/AppleAPIStubs/$m.swift"
      done
      swiftc -typecheck -swift-version 6 -warnings-as-errors -module-name PosSync -I "$out" \
        -I build/ffi/PosSyncFFI Sources/PosSync/*.swift Sources/PosSync/Generated/*.swift
      echo "swift-linux: the Apple-only sources type-check against the API stubs (Swift 6)"
    '
    in_root "$repo/ios" swift test \
      -Xlinker -L -Xlinker "$libdir" -Xlinker -rpath -Xlinker "$libdir" "$@"
    ;;
  *)
    die "unknown command '$cmd' (install | test [swift test args] | run CMD...)"
    ;;
esac
