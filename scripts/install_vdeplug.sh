#!/usr/bin/env bash
# Builds libvdeplug_ipn.so (//clients/vdeplug) and installs it where libvdeplug finds plugins,
# /usr/lib/<multiarch>/vdeplug/, so that the VNL ipn://PATH works in vde_plug, dpipe and QEMU's
# `-netdev vde,sock=ipn://PATH`. Idempotent: an identical installed copy is left as it is.
# Installs libvdeplug-dev (to build) and vdeplug (vde_plug, dpipe) first when they are missing.
# Usage: scripts/install_vdeplug.sh [--uninstall]
#
# Without installing, from a build tree (VDEPLUGIN_PATH replaces libvdeplug's search path, so keep
# the system's plugins in it for vde://, tap://, ...):
#   VDEPLUGIN_PATH=$PWD/bazel-bin/clients/vdeplug:/usr/lib/x86_64-linux-gnu/vdeplug vde_plug ipn:///ipn/net0
set -euo pipefail

cd "$(dirname "$0")/.."

action=install
case "${1:-}" in
  "") ;;
  --uninstall) action=uninstall ;;
  *) echo "usage: $0 [--uninstall]" >&2; exit 2 ;;
esac

if ((EUID == 0)); then
  sudo=()
elif command -v sudo >/dev/null 2>&1; then
  sudo=(sudo)
else
  echo "install_vdeplug.sh: need root (run as root, or install sudo)" >&2
  exit 1
fi

plugin_dir="/usr/lib/$(gcc -print-multiarch 2>/dev/null || echo x86_64-linux-gnu)/vdeplug"
dest="$plugin_dir/libvdeplug_ipn.so"

if [[ "$action" == uninstall ]]; then
  if [[ -e "$dest" ]]; then
    "${sudo[@]}" rm -f "$dest"
    echo "install_vdeplug.sh: removed $dest"
  else
    echo "install_vdeplug.sh: $dest is not installed"
  fi
  exit 0
fi

bash scripts/deps.sh build
missing=()
for pkg in libvdeplug-dev vdeplug; do
  status="$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)"
  [[ "$status" == "install ok installed" ]] || missing+=("$pkg")
done
if ((${#missing[@]} > 0)); then
  echo "install_vdeplug.sh: installing missing packages: ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  "${sudo[@]}" apt-get install -y --no-install-recommends "${missing[@]}" ||
    { "${sudo[@]}" apt-get update && "${sudo[@]}" apt-get install -y --no-install-recommends \
      "${missing[@]}"; }
fi

# No bazel-* links: the workspace's keep pointing at the everyday build.
bazel build -c opt --experimental_convenience_symlinks=ignore //clients/vdeplug:libvdeplug_ipn.so
src="$(bazel info -c opt bazel-bin 2>/dev/null)/clients/vdeplug/libvdeplug_ipn.so"
[[ -f "$src" ]] || { echo "install_vdeplug.sh: $src was not built" >&2; exit 1; }

if [[ -f "$dest" ]] && cmp -s "$src" "$dest"; then
  echo "install_vdeplug.sh: $dest is up to date"
  exit 0
fi
# A new inode (install unlinks first): programs that have the old plugin loaded keep it.
"${sudo[@]}" install -D -m 0644 "$src" "$dest"
echo "install_vdeplug.sh: installed $dest"
