/**
 * Per-kernel profile of one training step (tf.profile): time and count by kernel, matMuls
 * and transposes split by operand shapes. Used to find where a step's time goes
 * (bench/README.md quotes its output).
 *
 *   npx tsx bench/profile.ts small after       # shape quick-data | quick | small | paper; column before | after
 */
import * as tf from '@tensorflow/tfjs';

import { initBackend } from '../src/compute/backend';
import { setWasmSpeedups } from '../src/compute/wasm-speedups';
import { quickDataTrainer, shapeTrainer, TRAINING_SHAPES } from './training-step';

async function main(): Promise<void> {
  const [shapeName = 'small', column = 'after', top = '30'] = process.argv.slice(2);
  const shape = shapeName === 'quick-data' ? 'quick-data' : TRAINING_SHAPES.find((s) => s.name === shapeName);
  if (!shape) throw new Error(`unknown shape ${JSON.stringify(shapeName)}; use ${TRAINING_SHAPES.map((s) => s.name).join(', ')}`);
  if (column !== 'before' && column !== 'after') throw new Error(`column must be before or after, got ${JSON.stringify(column)}`);
  await initBackend();
  setWasmSpeedups(column === 'after');
  const implementation = column === 'after' ? 'optimised' : 'reference';
  const trainer = shape === 'quick-data' ? await quickDataTrainer(implementation) : shapeTrainer(shape, implementation);
  const plan = trainer.plan(0);
  await trainer.trainStep(plan[0], 0, 0); // warm-up: Adam's moments, XNNPACK operators
  await trainer.trainStep(plan[1 % plan.length], 0, 1);
  const start = Date.now();
  const info = await tf.profile(async () => {
    await trainer.trainStep(plan[0], 0, 2);
  });
  const wall = Date.now() - start;
  trainer.dispose();
  trainer.captioner.dispose();
  const byKernel = new Map<string, { ms: number; calls: number }>();
  for (const k of info.kernels) {
    const shapes = k.name === 'BatchMatMul' || k.name === 'Transpose' ? ' ' + k.inputShapes.map((s) => `[${s}]`).join(' x ') : '';
    const entry = byKernel.get(k.name + shapes) ?? { ms: 0, calls: 0 };
    entry.ms += k.kernelTimeMs as number;
    entry.calls += 1;
    byKernel.set(k.name + shapes, entry);
  }
  const total = [...byKernel.values()].reduce((sum, e) => sum + e.ms, 0);
  process.stdout.write(`${shape === 'quick-data' ? shape : shape.name}, ${column}: step ${wall} ms under the profiler, kernels ${total.toFixed(0)} ms in ${info.kernels.length} calls\n`);
  for (const [name, e] of [...byKernel].sort((a, b) => b[1].ms - a[1].ms).slice(0, Number(top))) {
    process.stdout.write(`${e.ms.toFixed(1).padStart(8)} ms ${String(e.calls).padStart(5)}x  ${name}\n`);
  }
}

main().catch((error) => {
  process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`);
  process.exitCode = 1;
});
