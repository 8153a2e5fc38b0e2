#!/usr/bin/env bash
# npm run test:image: the cluster suite (test/cluster) with the API and the worker running as
# containers of the project's image, built first (npm run image). It needs a Docker engine it can
# use (it starts Debian's dockerd when run as root); without one the suite is reported as skipped,
# unless REQUIRE_DOCKER=1 (CI), which fails instead.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v docker >/dev/null 2>&1 || { [ "$(id -u)" != 0 ] && ! docker info >/dev/null 2>&1; }; then
  if [ -n "${REQUIRE_DOCKER:-}" ]; then
    printf '\033[31m[test:image] no usable Docker engine, and REQUIRE_DOCKER is set\033[0m\n' >&2
    exit 1
  fi
  printf '\033[33m[test:image] skipped: no usable Docker engine (run as root with Docker installed, or start dockerd)\033[0m\n' >&2
  exit 0
fi
bash scripts/setup.sh --cluster
npm run -s image
CLUSTER_SERVICES=image npx jest -c jest.cluster.config.js "$@"
