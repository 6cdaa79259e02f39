# Builds openblas_matmul.node: the wasm backend's matMul computed by OpenBLAS (see matmul.c).
# Built by scripts/setup.sh (npm run build:native); needs OpenBLAS's headers and library
# (Debian: libopenblas-dev). Without it the project runs on XNNPACK's matMul, as before.
{
  "targets": [
    {
      "target_name": "openblas_matmul",
      "sources": ["matmul.c"],
      "cflags": ["-O2", "-Wall"],
      "libraries": ["-lopenblas"]
    }
  ]
}
