#!/usr/bin/env bash
# Installs the Debian 12 packages that build and test dartquant. Run as root.
# --fuzz also installs clang 14 and its libFuzzer and sanitizer runtimes (libclang-rt-14-dev),
# which only scripts/fuzz.sh needs; the normal build and CI do not.
set -euo pipefail

packages=(
  build-essential cmake ninja-build pkg-config ccache
  libtorch-dev libopenblas0-openmp
  libcxxopts-dev libspdlog-dev nlohmann-json3-dev libgtest-dev
  libsentencepiece-dev libpcre2-dev libssl-dev
)
case "${1:-}" in
  "") ;;
  --fuzz) packages+=(clang-14 libclang-rt-14-dev clang python3) ;;
  *) echo "install-deps: unknown argument '$1' (the only option is --fuzz)" >&2; exit 2 ;;
esac

missing=()
for package in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$package")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all packages present" >&2
  exit 0
fi

echo "install-deps: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}"
