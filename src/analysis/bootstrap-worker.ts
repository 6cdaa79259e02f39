/**
 * A bootstrap thread (bootstrap-threads.ts starts it with a `BootstrapRange`): builds the
 * scorer of the input, computes the differences of its range of resamples and sends them back.
 */
import { parentPort, workerData } from 'worker_threads';

import { bootstrapScorer, resampleDifferences } from './bootstrap';
import type { BootstrapRange } from './bootstrap-threads';

const { input, seed, from, to } = workerData as BootstrapRange;
const differences = resampleDifferences(bootstrapScorer(input), input.references.length, seed, from, to);
parentPort!.postMessage(differences, [differences['BLEU-4'].buffer, differences['CIDEr-D'].buffer]);
