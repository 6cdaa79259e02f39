/**
 * `captioning env`: the machine, the versions and the compute backend this process gets.
 * When the GPU backend is asked for (`--gpu`, or `CAPTIONING_BACKEND=node-gpu`), it first
 * checks what `@tensorflow/tfjs-node-gpu` needs (src/compute/gpu-check.ts) and names what
 * is missing.
 */
import { Command } from 'commander';

import { forcedBackendFromEnv } from '../compute/backend';
import { describeEnvironment } from '../compute/environment';
import { gpuPrerequisites } from '../compute/gpu-check';

function gpuLines(): string[] {
  const gpu = gpuPrerequisites();
  return [
    `gpu       tfjs-node-gpu 4.22 prerequisites: ${gpu.ok ? 'all found' : `missing ${gpu.missing.length}`}`,
    ...gpu.missing.map((m) => `  missing: ${m}`),
    ...Object.entries(gpu.found).map(([file, where]) => `  found: ${file} -> ${where}`),
    ...gpu.notes.map((n) => `  note: ${n}`),
  ];
}

export function envCommand(): Command {
  return new Command('env')
    .description('show the machine, package versions and the chosen tfjs backend (and why); with --gpu (or CAPTIONING_BACKEND=node-gpu) check the GPU libraries first')
    .option('--json', 'print the report as JSON')
    .option('--gpu', "check what @tensorflow/tfjs-node-gpu needs (CUDA 11 and cuDNN 8 libraries, Node's version, the GPU's generation)")
    .action(async (options: { json?: boolean; gpu?: boolean }) => {
      const checkGpu = options.gpu === true || forcedBackendFromEnv() === 'node-gpu';
      if (checkGpu && !options.json) process.stdout.write(gpuLines().join('\n') + '\n');
      const report = await describeEnvironment();
      if (options.json) {
        process.stdout.write(JSON.stringify(checkGpu ? { ...report, gpu: gpuPrerequisites() } : report, null, 2) + '\n');
        return;
      }
      const lines = [
        `node      ${report.node} on ${report.platform}`,
        `machine   ${report.cpus.count} x ${report.cpus.model}, ${report.memoryGiB} GiB`,
        `backend   ${report.backend.kind}${report.backend.forcedBy ? ` (forced by ${report.backend.forcedBy})` : ''}`,
        ...report.backend.rejected.map((r) => `  not ${r.kind}: ${r.reason}`),
        ...Object.entries(report.backend.details).map(([k, v]) => `  ${k}: ${v}`),
        'packages',
        ...Object.entries(report.packages).map(([name, version]) => `  ${name} ${version}`),
      ];
      process.stdout.write(lines.join('\n') + '\n');
    });
}
