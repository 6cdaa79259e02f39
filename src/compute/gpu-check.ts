/**
 * What `@tensorflow/tfjs-node-gpu` 4.22 needs besides the package, checked without loading
 * it, so that `captioning env` can name what is missing before a GPU run is attempted.
 * The package ships libtensorflow 2.9.1, built against CUDA 11 and cuDNN 8
 * (tensorflow/tfjs issues #8362, #8430, #8505, #8509, as users of 4.22 report them):
 *
 * - the CUDA 11 runtime libraries (11.2 to 11.8: `libcudart.so.11.0`, `libcublas.so.11`,
 *   `libcublasLt.so.11`, `libcufft.so.10`, `libcurand.so.10`, `libcusolver.so.11`,
 *   `libcusparse.so.11`) and cuDNN 8 (`libcudnn.so.8`) on the loader's path: they may sit
 *   beside any newer driver (a folder on `LD_LIBRARY_PATH`); a machine with CUDA 12 alone
 *   fails at load with "libcudart.so.11.0: cannot open shared object file";
 * - an NVIDIA driver (`libcuda.so.1`);
 * - Node.js 20 or older: its prebuilt addon is built for N-API 8, and users report it failing
 *   to load on Node 22;
 * - GPUs newer than the build (compute capability 9.0: Hopper, H100/H200) get no prebuilt
 *   kernels: TensorFlow JIT-compiles PTX at the first start, which can take many minutes.
 *
 *   const report = gpuPrerequisites();   // { ok, missing: ['libcudnn.so.8 (cuDNN 8)'], notes: [...] }
 */
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';

/** A library tfjs-node-gpu 4.22 opens at load, with what provides it. */
export const GPU_LIBRARIES: readonly { file: string; from: string }[] = [
  { file: 'libcuda.so.1', from: 'the NVIDIA driver' },
  { file: 'libcudart.so.11.0', from: 'the CUDA 11 runtime (11.2-11.8)' },
  { file: 'libcublas.so.11', from: 'CUDA 11 cuBLAS' },
  { file: 'libcublasLt.so.11', from: 'CUDA 11 cuBLAS' },
  { file: 'libcufft.so.10', from: 'CUDA 11 cuFFT' },
  { file: 'libcurand.so.10', from: 'CUDA 11 cuRAND' },
  { file: 'libcusolver.so.11', from: 'CUDA 11 cuSOLVER' },
  { file: 'libcusparse.so.11', from: 'CUDA 11 cuSPARSE' },
  { file: 'libcudnn.so.8', from: 'cuDNN 8' },
];

export interface GpuPrerequisites {
  /** Every library found and Node not newer than the addon supports. */
  ok: boolean;
  /** What is missing, each with what provides it. */
  missing: string[];
  /** Where each found library is. */
  found: Record<string, string>;
  /** Facts that do not stop a run but matter (first-start PTX compilation, CUDA 12 alone). */
  notes: string[];
}

export interface GpuCheckOptions {
  /** The environment (default process.env): its LD_LIBRARY_PATH is searched first. */
  env?: NodeJS.ProcessEnv;
  /** The loader cache's listing (default: `ldconfig -p`; '' when it cannot run). */
  ldconfig?: string;
  /** Node's major version (default this process's). */
  nodeMajor?: number;
  /** Compute capabilities of the GPUs (default: `nvidia-smi`, none when it cannot run). */
  computeCapabilities?: number[];
}

function run(command: string, args: string[]): string {
  try {
    return execFileSync(command, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], timeout: 10_000 });
  } catch {
    return '';
  }
}

/** The libraries the loader would find: LD_LIBRARY_PATH folders first, then its cache. */
function locate(file: string, folders: readonly string[], ldconfig: string): string | undefined {
  for (const folder of folders) {
    const candidate = path.join(folder, file);
    if (fs.existsSync(candidate)) return candidate;
  }
  const line = ldconfig.split('\n').find((l) => l.trim().startsWith(`${file} `));
  return line ? line.slice(line.indexOf('=>') + 2).trim() : undefined;
}

/** Checks what tfjs-node-gpu 4.22 needs on this machine (see the module comment). */
export function gpuPrerequisites(options: GpuCheckOptions = {}): GpuPrerequisites {
  const env = options.env ?? process.env;
  const folders = (env.LD_LIBRARY_PATH ?? '').split(':').filter(Boolean);
  const ldconfig = options.ldconfig ?? run('ldconfig', ['-p']);
  const missing: string[] = [];
  const found: Record<string, string> = {};
  for (const lib of GPU_LIBRARIES) {
    const where = locate(lib.file, folders, ldconfig);
    if (where) found[lib.file] = where;
    else missing.push(`${lib.file} (${lib.from})`);
  }
  const notes: string[] = [];
  if (!found['libcudart.so.11.0'] && /libcudart\.so\.12/.test(ldconfig + folders.join(' '))) {
    notes.push('CUDA 12 is installed but not CUDA 11: install the CUDA 11.8 runtime and cuDNN 8 beside it and add their lib folder to LD_LIBRARY_PATH');
  }
  const nodeMajor = options.nodeMajor ?? Number(process.versions.node.split('.')[0]);
  if (nodeMajor > 20) missing.push(`Node.js ${nodeMajor}: the prebuilt addon of tfjs-node-gpu 4.22 targets N-API 8 and is reported to fail on Node 22; use Node 20`);
  const capabilities = options.computeCapabilities ?? run('nvidia-smi', ['--query-gpu=compute_cap', '--format=csv,noheader']).split('\n').map(Number).filter((c) => c > 0);
  if (capabilities.some((c) => c >= 9)) {
    notes.push(`GPU compute capability ${Math.max(...capabilities)} is newer than libtensorflow 2.9.1's kernels: the first start JIT-compiles PTX, which can take many minutes (later starts reuse the CUDA cache)`);
  }
  return { ok: missing.length === 0, missing, found, notes };
}
