#!/usr/bin/env bash
# Installs the Debian packages padbench needs that are missing (and only those),
# and makes OpenBLAS (OpenMP) the system BLAS. Safe to run again.
set -euo pipefail

PACKAGES=(
  build-essential cmake pkg-config
  libmujoco-dev libqhull-dev
  libtorch-dev libopenblas0-openmp libblas-dev
  libopencv-dev libimgui-dev libglfw3-dev
  catch2 libfmt-dev nlohmann-json3-dev libcli11-dev libhdf5-dev
  libegl-dev libegl1-mesa-dev libgles-dev libosmesa6-dev libgl1-mesa-dri
  xvfb xauth python3-h5py
  openmpi-bin libopenmpi-dev
)

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${#missing[@]} missing packages: ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
else
  echo "setup: all ${#PACKAGES[@]} packages present"
fi

# LibTorch uses the system BLAS; the reference BLAS is 3-5x slower than OpenBLAS.
arch=$(dpkg-architecture -qDEB_HOST_MULTIARCH 2>/dev/null || echo x86_64-linux-gnu)
for lib in libblas.so.3 liblapack.so.3; do
  target=/usr/lib/$arch/openblas-openmp/$lib
  current=$(readlink -f "/etc/alternatives/$lib-$arch" 2>/dev/null || true)
  if [ -e "$target" ] && [ "$current" != "$target" ]; then
    $SUDO update-alternatives --set "$lib-$arch" "$target"
  fi
done
