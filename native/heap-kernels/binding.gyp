# Builds heap_kernels.node: kernels that work on tfjs's wasm heap from native code (see addon.c).
# Built by scripts/setup.sh (npm run build:native); needs OpenBLAS's headers and library
# (Debian: libopenblas-dev). Without it the project runs on the wasm backend's own kernels.
{
  "targets": [
    {
      "target_name": "heap_kernels",
      "sources": ["addon.c", "matmul.c", "adam.c", "panels.c", "attention.c"],
      "cflags": ["-O3", "-fno-math-errno", "-Wall"],
      "libraries": ["-lopenblas"]
    }
  ]
}
