// What tfjs-node-gpu 4.22 needs, checked on a made-up library folder: found on
// LD_LIBRARY_PATH or in the loader cache, named when missing, CUDA 12 alone and Hopper noted.
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, test } from 'node:test';

import { GPU_LIBRARIES, gpuPrerequisites } from '../../src/compute/gpu-check';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gpu-libs-'));
after(() => fs.rmSync(dir, { recursive: true, force: true }));

test('every library on LD_LIBRARY_PATH and Node 20: ready', () => {
  for (const lib of GPU_LIBRARIES) fs.writeFileSync(path.join(dir, lib.file), '');
  const report = gpuPrerequisites({ env: { LD_LIBRARY_PATH: `/nowhere:${dir}` }, ldconfig: '', nodeMajor: 20, computeCapabilities: [8.0] });
  assert.equal(report.ok, true, report.missing.join('; '));
  assert.equal(report.found['libcudnn.so.8'], path.join(dir, 'libcudnn.so.8'));
  assert.deepEqual(report.notes, []);
});

test('a CUDA 12 machine without cuDNN 8: each missing library is named with what provides it', () => {
  const ldconfig = ['\t1234 libs found in cache', '\tlibcuda.so.1 (libc6,x86-64) => /usr/lib/x86_64-linux-gnu/libcuda.so.1', '\tlibcudart.so.12 (libc6,x86-64) => /usr/local/cuda-12/lib64/libcudart.so.12'].join('\n');
  const report = gpuPrerequisites({ env: {}, ldconfig, nodeMajor: 20, computeCapabilities: [9.0] });
  assert.equal(report.ok, false);
  assert.equal(report.found['libcuda.so.1'], '/usr/lib/x86_64-linux-gnu/libcuda.so.1');
  assert.ok(report.missing.includes('libcudart.so.11.0 (the CUDA 11 runtime (11.2-11.8))'), report.missing.join('; '));
  assert.ok(report.missing.includes('libcudnn.so.8 (cuDNN 8)'));
  assert.ok(!report.missing.some((m) => m.startsWith('libcuda.so.1')));
  assert.ok(report.notes.some((n) => /CUDA 12 is installed but not CUDA 11/.test(n)));
  assert.ok(report.notes.some((n) => /compute capability 9 .*JIT-compiles PTX/.test(n)), report.notes.join('; '));
});

test('Node 22 is named as a blocker even with every library present', () => {
  const report = gpuPrerequisites({ env: { LD_LIBRARY_PATH: dir }, ldconfig: '', nodeMajor: 22, computeCapabilities: [] });
  assert.equal(report.ok, false);
  assert.ok(report.missing.some((m) => /Node\.js 22/.test(m)));
});
