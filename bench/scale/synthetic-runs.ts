/**
 * 500 finished runs of paper length for the listing and report stages: one trained through
 * the real run store (`experiment`) by a job that does no maths but logs what a paper run
 * logs (120 epochs of 17,710 steps, every step through `logStep`, so metrics.jsonl is the
 * store's own aggregated file at full length), then copied under other seeds: each copy is
 * a run of its own (its identity, hash and id recomputed, its records rewritten to match;
 * metrics.jsonl hard-linked, as the copies' histories are equal).
 *
 *   await writeSyntheticRuns('results/bench-scale/4000/results', { runs: 500 });
 */
import * as fs from 'fs';
import * as path from 'path';

import { createRng } from '../../src/common/random';
import { experiment, type TrainingJob } from '../../src/tracking';
import { identityHash, runIdentity } from '../../src/tracking/canonical';
import { CHECKPOINT_SIDECAR } from '../../src/tracking/checkpoints';
import { RUN_FILES } from '../../src/tracking/paths';

/** The paper profile's length: 566,747 training captions / 32 a batch, and the reference's 120 epochs. */
export const PAPER_STEPS_PER_EPOCH = 17_710;
export const PAPER_EPOCHS = 120;

function paperLikeJob(seed: number): TrainingJob<{ loss: number }> {
  const rng = createRng(`synthetic run ${seed}`);
  return {
    name: 'paper-like',
    config: { kind: 'bench-scale synthetic run', profile: 'paper', seed },
    epochs: PAPER_EPOCHS,
    seed,
    fingerprints: { dataset: 'coco-like' },
    metricLabels: {
      loss: { name: 'loss', split: 'train', protocol: 'teacher-forced' },
      val_loss: { name: 'loss', split: 'val', protocol: 'teacher-forced' },
      val_bleu4: { name: 'BLEU-4', split: 'val', protocol: 'free-running', beam: 3, implementation: 'coco-caption' },
    },
    best: { metric: 'val_bleu4', mode: 'max' },
    init: () => ({ loss: 4.5 }),
    epoch: async (state, ctx) => {
      ctx.setSteps(PAPER_STEPS_PER_EPOCH);
      let sum = 0;
      for (let s = 0; s < PAPER_STEPS_PER_EPOCH; s++) {
        const loss = state.loss * (0.9 + 0.2 * rng.next());
        sum += loss;
        ctx.logStep({ loss });
      }
      state.loss *= 0.985;
      return { loss: sum / PAPER_STEPS_PER_EPOCH, val_loss: state.loss * 1.1, val_bleu4: 0.3 - 0.1 * Math.exp(-ctx.epoch / 20) };
    },
    saveCheckpoint: async (state, writer) => writer.setState({ loss: state.loss }),
    loadCheckpoint: async (state, reader) => {
      const saved = reader.state;
      if (typeof saved !== 'object' || saved === null || Array.isArray(saved) || typeof saved.loss !== 'number') throw new Error('synthetic run: checkpoint state has no loss');
      state.loss = saved.loss;
    },
    evaluate: async () => ({ metrics: [{ name: 'BLEU-4', value: 0.3, split: 'test', protocol: 'free-running', beam: 3, implementation: 'coco-caption' }] }),
  };
}

function rewriteJson(file: string, change: (value: Record<string, unknown>) => Record<string, unknown>): void {
  const value = JSON.parse(fs.readFileSync(file, 'utf8')) as Record<string, unknown>;
  fs.writeFileSync(file, JSON.stringify(change(value), null, 2) + '\n');
}

/** Copies the template run as the run of `seed`: same history, its own identity and id. */
function copyRun(template: string, runsDir: string, seed: number): void {
  const config = JSON.parse(fs.readFileSync(path.join(template, RUN_FILES.config), 'utf8')) as { config: Record<string, unknown>; fingerprints: Record<string, string> };
  const identity = runIdentity({ config: { ...config.config, seed }, epochs: PAPER_EPOCHS, seed, fingerprints: config.fingerprints });
  const hash = identityHash(identity);
  const id = `paper-like-${hash}`;
  const dir = path.join(runsDir, id);
  if (fs.existsSync(path.join(dir, RUN_FILES.summary))) return;
  fs.rmSync(dir, { recursive: true, force: true });
  fs.cpSync(template, dir, { recursive: true, filter: (source) => path.basename(source) !== RUN_FILES.metrics && !path.basename(source).startsWith(RUN_FILES.lock) });
  fs.linkSync(path.join(template, RUN_FILES.metrics), path.join(dir, RUN_FILES.metrics));
  rewriteJson(path.join(dir, RUN_FILES.config), (c) => ({ ...c, id, hash, name: 'paper-like', aliases: ['paper-like'], ...identity }));
  rewriteJson(path.join(dir, RUN_FILES.status), (s) => ({ ...s, id }));
  rewriteJson(path.join(dir, RUN_FILES.summary), (s) => ({ ...s, id, config: identity.config, seed }));
  for (const checkpoint of fs.readdirSync(path.join(dir, RUN_FILES.checkpoints))) {
    rewriteJson(path.join(dir, RUN_FILES.checkpoints, checkpoint, CHECKPOINT_SIDECAR), (info) => ({ ...info, runId: id, identity }));
  }
}

export async function writeSyntheticRuns(root: string, options: { runs: number }): Promise<void> {
  const template = await experiment(paperLikeJob(1), { root, progress: 'none', log: () => {}, handleInterrupt: false });
  const runsDir = path.dirname(template.dir);
  for (let seed = 2; seed <= options.runs; seed++) copyRun(template.dir, runsDir, seed);
}
