#!/usr/bin/env bash
# `make fresh-check`: the README's two commands on a minimal Debian, as a new user's machine is.
#
# A machine that has run the portal before has packages a minimal Debian lacks (libatomic1 was
# one), so `make run` and `make test` can pass here and fail there. This builds a minimal Debian
# (debootstrap --variant=minbase, with only what the quick start assumes: Python 3.11 and make),
# copies in the committed tree (git archive HEAD: what a clone gets), then inside it runs
# `make test` and `make run`, and checks that the served catalog answers and the demo logins are
# printed. Needs root (debootstrap, chroot) and Debian's package mirror.
#
# FRESH_DIR     where the system is built (default .fresh/, removed first unless FRESH_KEEP=1)
# FRESH_SUITE   the Debian release (default bookworm: its python3 is 3.11, the oldest supported)
# FRESH_MIRROR  the package mirror (default http://deb.debian.org/debian)
# FRESH_STEPS   "test run" (default), or one of them
set -euo pipefail

cd "$(dirname "$0")/.."
root=$(pwd)
dir=${FRESH_DIR:-$root/.fresh}
suite=${FRESH_SUITE:-bookworm}
mirror=${FRESH_MIRROR:-http://deb.debian.org/debian}
steps=${FRESH_STEPS:-test run}
port=5099  # not the default: the check also shows that links and the server follow PORT

if [[ $(id -u) -ne 0 ]]; then
  echo "make fresh-check builds a Debian system with debootstrap and enters it with chroot:" >&2
  echo "run it as root (sudo make fresh-check)." >&2
  exit 1
fi
if ! command -v debootstrap >/dev/null; then
  echo "Installing debootstrap"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends debootstrap >/dev/null \
    || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends debootstrap >/dev/null; }
fi

mounted=()
# every process still running inside (make run's server), found by its root directory
stop_inside() {
  local proc
  for proc in /proc/[0-9]*; do
    [[ $(readlink "$proc/root" 2>/dev/null) == "$dir" ]] && kill "${proc#/proc/}" 2>/dev/null || true
  done
}
unmount() {
  stop_inside
  for ((i = ${#mounted[@]} - 1; i >= 0; i--)); do umount -l "${mounted[i]}" 2>/dev/null || true; done
}
trap unmount EXIT

# a run that was killed may have left the host's /proc, /sys and /dev bound inside: never
# delete through them
for fs in dev/pts dev sys proc; do
  mountpoint -q "$dir/$fs" 2>/dev/null && umount -l "$dir/$fs"
done
if grep -qF " $dir/" /proc/mounts; then
  echo "Something is still mounted under $dir; unmount it first." >&2
  exit 1
fi
if [[ -z ${FRESH_KEEP:-} || ! -x $dir/usr/bin/python3 ]]; then
  rm -rf --one-file-system "$dir"
  echo "Building a minimal Debian $suite in $dir"
  debootstrap --variant=minbase --include=python3,make,ca-certificates "$suite" "$dir" "$mirror" \
    > "$root/.fresh.log" 2>&1 || { tail -20 "$root/.fresh.log" >&2; exit 1; }
fi
# the host's resolver and the certificate authorities it trusts (a network that inspects TLS
# has its own), so the system inside reaches the same package mirrors and PyPI
cp /etc/resolv.conf "$dir/etc/resolv.conf"
if compgen -G "/usr/local/share/ca-certificates/*.crt" >/dev/null; then
  mkdir -p "$dir/usr/local/share/ca-certificates"
  cp /usr/local/share/ca-certificates/*.crt "$dir/usr/local/share/ca-certificates/"
  # into the bundle at once (later updates of ca-certificates rebuild it from the folder above)
  for crt in /usr/local/share/ca-certificates/*.crt; do
    grep -qF "$(sed -n 2p "$crt")" "$dir/etc/ssl/certs/ca-certificates.crt" || cat "$crt" >> "$dir/etc/ssl/certs/ca-certificates.crt"
  done
fi
echo "deb $mirror $suite main" > "$dir/etc/apt/sources.list"
for fs in proc sys dev dev/pts; do
  mkdir -p "$dir/$fs"
  mount --bind "/$fs" "$dir/$fs"
  mounted+=("$dir/$fs")
done

# the committed tree, as a clone has it (no .venv, no compiled catalogs, nothing ignored)
rm -rf "$dir/root/portal"
mkdir -p "$dir/root/portal"
git -C "$root" archive HEAD | tar -x -C "$dir/root/portal"

inside() { chroot "$dir" /usr/bin/env -i HOME=/root PATH=/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 bash -c "cd /root/portal && $1"; }

for step in $steps; do
  case $step in
    test)
      echo "Inside: make test"
      inside "make test"
      ;;
    run)
      echo "Inside: PORT=$port make run (stopped once the catalog answers)"
      log=$dir/root/make-run.log
      inside "PORT=$port setsid make run > /root/make-run.log 2>&1 &"
      served=
      for _ in $(seq 1 600); do
        if inside "python3 -c \"import urllib.request, sys; r = urllib.request.urlopen('http://127.0.0.1:$port/', timeout=5); sys.exit(0 if r.status == 200 and b'Investment Ecosystem' in r.read() else 1)\"" 2>/dev/null; then
          served=yes
          break
        fi
        sleep 1
      done
      stop_inside
      if [[ -z $served ]]; then
        echo "make run did not serve the catalog on port $port; its output:" >&2
        tail -40 "$log" >&2
        exit 1
      fi
      grep -q "Serving http://127.0.0.1:$port" "$log" || { echo "make run did not say where it serves" >&2; exit 1; }
      grep -qi "password" "$log" || { echo "make run printed no demo logins" >&2; tail -40 "$log" >&2; exit 1; }
      echo "make run served the demo catalog on port $port and printed the demo logins"
      ;;
    *) echo "unknown step $step (test, run)" >&2; exit 1 ;;
  esac
done
echo "fresh-check: the quick start works on a minimal Debian $suite"
