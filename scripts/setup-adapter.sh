#!/usr/bin/env bash
# Makes a WebGPU adapter available to Node (Dawn, npm `webgpu`).
# 1. Ask Node for an adapter. If there is one, done.
# 2. Otherwise, on Debian/Ubuntu as root, install Mesa's lavapipe (software Vulkan) and check again.
#    Debian 12 ships Mesa 22, which Dawn rejects, so there it comes from bookworm-backports.
# 3. Anywhere else, say what to install and exit non-zero.
# Also installs the browser and video tools the project uses (chromium, ffmpeg) when it can.
# Never run implicitly on `npm install`: the package's consumers must not get apt side effects.
set -euo pipefail
cd "$(dirname "$0")/.."
export XDG_RUNTIME_DIR="${XDG_RUNTIME_DIR:-/tmp/xdg-runtime-$(id -u)}"
mkdir -p "$XDG_RUNTIME_DIR" && chmod 700 "$XDG_RUNTIME_DIR"

probe() { node scripts/probe-adapter.mjs; }

extras=(chromium ffmpeg)
missing_extras=()
for p in "${extras[@]}"; do command -v "$p" >/dev/null 2>&1 || missing_extras+=("$p"); done

if probe && [ ${#missing_extras[@]} -eq 0 ]; then exit 0; fi

. /etc/os-release 2>/dev/null || true
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
  cat >&2 <<MSG
No WebGPU adapter found (or chromium/ffmpeg missing), and this is not a Debian/Ubuntu machine where we run as root.
Install a Vulkan driver that Dawn accepts: on Linux without a GPU, Mesa >= 24 lavapipe (package
mesa-vulkan-drivers, plus libvulkan1); with a GPU, its vendor's Vulkan driver. Then run this script again.
For the browser tests install chromium; for video, ffmpeg.
MSG
  exit 1
fi

export DEBIAN_FRONTEND=noninteractive
if [ "${ID:-}" = debian ] && [ "${VERSION_CODENAME:-}" = bookworm ]; then
  src=/etc/apt/sources.list.d/bookworm-backports.list
  [ -f "$src" ] || echo "deb http://deb.debian.org/debian bookworm-backports main" > "$src"
  apt-get update -qq
  apt-get install -y -qq -t bookworm-backports mesa-vulkan-drivers libvulkan1 >/dev/null
else
  apt-get update -qq
  apt-get install -y -qq mesa-vulkan-drivers libvulkan1 >/dev/null
fi
[ ${#missing_extras[@]} -eq 0 ] || apt-get install -y -qq "${missing_extras[@]}" >/dev/null

probe || { echo "Mesa installed but Node still finds no WebGPU adapter (see the message above)." >&2; exit 1; }
