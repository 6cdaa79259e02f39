/**
 * The worker side of data-parallel training (data-parallel.ts): chooses the backend it is
 * told, builds its trainer from the recipe, then answers the group's messages in order:
 * 'state' (weights, optimiser state, counters), 'step' (forward and backward on its shard,
 * gradients into its slot of shared memory), 'reduce' (its share of the slots' sum), 'apply' (the same clip and update as every
 * other worker, from the summed gradients; answered once the sum is read), 'close'.
 */
import { parentPort, workerData } from 'worker_threads';

import * as tf from '@tensorflow/tfjs';

import { selectBackend } from '../compute/backend';
import { SharedPanels, sharePanels, type WeightsVersion } from '../compute/shared-panels';
import { type FromWorker, readGradients, sumSlots, type ToWorker, type WorkerStart, writeGradients } from './data-parallel';
import type { Trainer } from './trainer';

async function main(): Promise<void> {
  const port = parentPort;
  if (!port) throw new Error('data-parallel-worker.ts runs as a worker thread');
  const reply = (message: FromWorker) => port.postMessage(message);
  try {
    const start = workerData as WorkerStart;
    await selectBackend({ force: start.backend, log: null });
    const factory = (require(start.recipe.module) as Record<string, unknown>)[start.recipe.exportName];
    if (typeof factory !== 'function') throw new Error(`${start.recipe.module} exports no function ${JSON.stringify(start.recipe.exportName)}`);
    const trainer = (await factory(start.recipe.argument)) as Trainer;
    const layout = trainer.weightLayout();
    let weightsVersion: WeightsVersion | undefined; // set by each 'state', counted by each 'apply'
    sharePanels(trainer.captioner.variables().values(), { panels: new SharedPanels(start.panels), version: () => weightsVersion });
    const total = layout.reduce((a, w) => a + w.size, 0);
    const own = new Float32Array(start.shared, start.slot * total * 4, total);
    const sum = new Float32Array(start.shared, (start.shared.byteLength / 4 / total - 1) * total * 4, total);
    // Messages are handled one at a time, in the order they were sent.
    let queue = Promise.resolve();
    port.on('message', (message: ToWorker) => {
      queue = queue.then(() => handle(message)).catch((error: Error) => reply({ kind: 'error', message: error.stack ?? error.message }));
    });
    const handle = async (message: ToWorker): Promise<void> => {
      switch (message.kind) {
        case 'state':
          trainer.restore(message.snapshot);
          weightsVersion = { generation: message.generation, updates: 0 };
          reply({ kind: 'synced' });
          return;
        case 'step': {
          const out = await trainer.shardGradients(message.rows, message, { ...(message.next ? { next: message.next } : {}), normalization: message.normalization });
          const present = writeGradients(layout, out.grads, own);
          tf.dispose([...out.grads.values()]);
          reply({ kind: 'done', present, loss: out.loss, crossEntropy: out.crossEntropy, attention: out.attention });
          return;
        }
        case 'reduce':
          sumSlots(start.shared, total, message.slots, message.from, message.to);
          reply({ kind: 'reduced' });
          return;
        case 'apply':
          trainer.progress.learningRate = message.learningRate;
          trainer.progress.encoderLearningRate = message.encoderLearningRate;
          trainer.applyGradients(readGradients(layout, sum, message.present));
          if (weightsVersion) weightsVersion = { ...weightsVersion, updates: weightsVersion.updates + 1 };
          reply({ kind: 'applied' });
          return;
        case 'close':
          trainer.dispose();
          trainer.captioner.dispose();
          port.close();
          return;
      }
    };
    reply({ kind: 'ready', layout });
  } catch (error) {
    reply({ kind: 'error', message: (error as Error).stack ?? String(error) });
  }
}

void main();
