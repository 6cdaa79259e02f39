/**
 * The worker side of data-parallel training (data-parallel.ts): chooses the backend it is
 * told, builds its trainer from the recipe, then answers the group's messages in order:
 * 'state' (weights, optimiser state, counters), 'step' (forward and backward on its shard,
 * gradients into its slot of shared memory), 'norm' (its part of the summed gradients' sum of
 * squares, to clip by the global norm), 'update' (its share of the Adam update, from the
 * slots summed, into the shared row of updated weights), 'take' (every share's new values,
 * once all are written), 'close'.
 */
import { parentPort, workerData } from 'worker_threads';

import * as tf from '@tensorflow/tfjs';

import { selectBackend } from '../compute/backend';
import { SharedPanels, sharePanels, type WeightsVersion } from '../compute/shared-panels';
import { type FromWorker, sharedRows, squaresOf, type ToWorker, type WorkerStart, writeGradients } from './data-parallel';
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
    let weightsVersion: WeightsVersion | undefined; // set by each 'state', counted by each update taken
    sharePanels(trainer.captioner.variables().values(), { panels: new SharedPanels(start.panels), version: () => weightsVersion });
    const total = layout.reduce((a, w) => a + w.size, 0);
    const rows = sharedRows(start.shared, total);
    trainer.shareOptimiserState(rows.moments, false); // the group's one copy (its values come with 'state')
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
          const present = writeGradients(layout, out.grads, rows.slot(start.slot));
          tf.dispose([...out.grads.values()]);
          reply({ kind: 'done', present, loss: out.loss, crossEntropy: out.crossEntropy, attention: out.attention });
          return;
        }
        case 'norm':
          reply({ kind: 'normed', squares: squaresOf(rows.gradients(message.slots), layout, message.present, message) });
          return;
        case 'update':
          trainer.progress.learningRate = message.learningRate;
          trainer.progress.encoderLearningRate = message.encoderLearningRate;
          trainer.applyGradientShare(rows.gradients(message.slots), message, message.present, rows.updated(message.update), message.clip);
          reply({ kind: 'updated' });
          return;
        case 'take':
          trainer.takeUpdatedWeights(rows.updated(message.update), message.present);
          if (weightsVersion) weightsVersion = { ...weightsVersion, updates: weightsVersion.updates + 1 };
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
