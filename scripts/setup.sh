#!/usr/bin/env bash
# Installs what captioning-lab needs, and only what is missing:
#   - Jupyter's nbconvert and client (to execute notebooks headlessly),
#   - Jupyter Notebook, the classic front end (the browser test runs a chapter in it),
#   - Chromium (to render figures as PNG/SVG),
#   - OpenBLAS's headers and library (libopenblas-dev: the wasm backend's matrix products run
#     on it through the native/heap-kernels addon, two to three and a half times XNNPACK's speed here),
#   - Slurm's daemons and clients and munge (slurm-wlm, munge: the sweep test starts a
#     one-node cluster with scripts/slurm-cluster.sh; a user's real cluster needs none of it here),
#     all from Debian/Ubuntu packages when apt-get is available, else it says what to install;
#   - the npm packages (npm ci) when node_modules is missing or older than package-lock.json;
#   - the native/heap-kernels addon (npm run build:native) when it is missing or older than
#     its sources. Without it the project still runs, on the wasm backend's slower kernels.
# Safe to run again: a machine that has everything is left as it is.
set -euo pipefail
cd "$(dirname "$0")/.."

missing=()
if ! jupyter nbconvert --version >/dev/null 2>&1; then
  missing+=(jupyter-nbconvert jupyter-client)
fi
if ! jupyter notebook --version >/dev/null 2>&1; then
  missing+=(jupyter-notebook)
fi
if [ -z "${CAPTIONING_CHROMIUM:-}" ] && ! command -v chromium >/dev/null 2>&1 \
  && ! command -v chromium-browser >/dev/null 2>&1 && ! command -v google-chrome >/dev/null 2>&1; then
  missing+=(chromium)
fi
# OpenBLAS is optional (the addon below needs it): asked of apt where there is apt, else only named.
has_openblas() {
  if command -v dpkg-query >/dev/null 2>&1; then
    dpkg-query -W -f='${Status}' libopenblas-dev 2>/dev/null | grep -q "install ok installed"
  else
    printf '#include <cblas.h>\n#include <openblas_config.h>\n' | "${CC:-cc}" -E -x c - >/dev/null 2>&1
  fi
}
if ! has_openblas; then
  if command -v apt-get >/dev/null 2>&1; then
    missing+=(libopenblas-dev)
  else
    echo "setup: OpenBLAS (with cblas.h) not found: the wasm backend will use its own, slower kernels" >&2
  fi
fi

# Slurm (the sweep test's cluster): asked of apt where there is apt, else only named.
if ! command -v slurmctld >/dev/null 2>&1 || ! command -v munged >/dev/null 2>&1; then
  if command -v apt-get >/dev/null 2>&1; then
    missing+=(slurm-wlm munge)
  else
    echo "setup: Slurm (slurmctld, slurmd, munged) not found: test/sweeps/slurm.test.ts needs them" >&2
  fi
fi

if [ ${#missing[@]} -gt 0 ]; then
  if command -v apt-get >/dev/null 2>&1; then
    sudo=""
    if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
    echo "setup: installing ${missing[*]} (Debian packages)"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  else
    echo "setup: please install: ${missing[*]} (Jupyter nbconvert + jupyter_client + notebook 6, and Chromium or Chrome;" >&2
    echo "       set CAPTIONING_CHROMIUM to the browser binary if it is not on PATH)" >&2
    exit 1
  fi
fi

if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "setup: npm ci"
  # onnxruntime-node (pulled in later by transformers.js) must not try to download CUDA files.
  ONNXRUNTIME_NODE_INSTALL=skip npm ci --no-audit --no-fund
fi
addon=native/heap-kernels/build/Release/heap_kernels.node
stale=""
for source in native/heap-kernels/*.c native/heap-kernels/*.h native/heap-kernels/binding.gyp; do
  if [ "$source" -nt "$addon" ]; then stale=yes; fi
done
if [ ! -f "$addon" ] || [ -n "$stale" ]; then
  echo "setup: building native/heap-kernels (npm run build:native)"
  if ! npm run --silent build:native >/tmp/captioning-build-native.log 2>&1; then
    echo "setup: warning: native/heap-kernels did not build (log: /tmp/captioning-build-native.log); the wasm backend's own kernels will run (XNNPACK products)" >&2
  fi
fi
echo "setup: ready ($(node --version), $(jupyter nbconvert --version 2>/dev/null | head -1 | sed 's/^/nbconvert /'), $(jupyter notebook --version 2>/dev/null | head -1 | sed 's/^/notebook /'))"
