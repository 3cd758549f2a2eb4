#!/usr/bin/env bash
# Install the Debian packages in $PACKAGES that are missing: as root with apt-get, otherwise
# print the exact command and stop.
set -euo pipefail
missing=()
for package in $PACKAGES; do
  status=$(dpkg-query -W -f='${Status}' "$package" 2>/dev/null || true)
  [[ "$status" == "install ok installed" ]] || missing+=("$package")
done
[[ ${#missing[@]} -eq 0 ]] && exit 0
if ! command -v apt-get >/dev/null; then
  echo "These Debian/Ubuntu packages are needed: ${missing[*]} (no apt-get here: install their equivalents)." >&2
  exit 1
fi
if [[ $(id -u) -ne 0 ]]; then
  echo "Missing system packages. Run this, then run make again:" >&2
  echo "  sudo apt-get update && sudo apt-get install -y --no-install-recommends ${missing[*]}" >&2
  exit 1
fi
echo "Installing system packages: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "Installed: ${missing[*]}"
