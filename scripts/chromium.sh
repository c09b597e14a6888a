# Sourced by scripts/test: makes sure the system Chromium the browser end-to-end test drives is
# installed (Playwright never downloads a browser here), and exports its path.
# Sourced on its own, it brings the helpers (apt_install, as_root) it needs.
declare -F apt_install >/dev/null || source "$(dirname "${BASH_SOURCE[0]}")/toolchain.sh"
export IM_APPROVAL_CHROMIUM="${IM_APPROVAL_CHROMIUM:-/usr/lib/chromium/chromium}"
if [ ! -x "$IM_APPROVAL_CHROMIUM" ]; then
  echo "chromium: installing the system Chromium (apt-get)"
  apt_install chromium
fi
