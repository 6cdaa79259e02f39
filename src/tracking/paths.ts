/**
 * Where runs live: `<results root>/runs/<id>/`, and the names of the files in a run folder.
 *
 * The results root is, first found: the `root` option, the `CAPTIONING_RESULTS` environment
 * variable, `results/` in the project root (the folder holding package.json).
 */
import * as path from 'path';

import { PROJECT_ROOT, projectPath } from '../common/project';
import { assertRunId } from './canonical';

export const RESULTS_ENV_VAR = 'CAPTIONING_RESULTS';

/**
 * The results folder: `root`, else $CAPTIONING_RESULTS, else `<project>/results`. A relative
 * variable is relative to the project root, as config paths are: a notebook's kernel runs in
 * notebooks/, the command line anywhere, and both must find the same runs.
 */
export function resultsRoot(root?: string, env: NodeJS.ProcessEnv = process.env): string {
  if (root) return path.resolve(root);
  const fromEnv = env[RESULTS_ENV_VAR];
  if (fromEnv && fromEnv.trim() !== '') return projectPath(fromEnv.trim());
  return path.join(PROJECT_ROOT, 'results');
}

/** `<results>/runs`. */
export function runsFolder(root?: string): string {
  return path.join(resultsRoot(root), 'runs');
}

/** `<results>/runs/<id>`. */
export function runFolder(id: string, root?: string): string {
  assertRunId(id);
  return path.join(runsFolder(root), id);
}

/** The files of a run folder (DESIGN.md, "Runs and caching"). */
export const RUN_FILES = {
  config: 'config.json',
  environment: 'environment.json',
  metrics: 'metrics.jsonl',
  summary: 'summary.json',
  status: 'status.json',
  lock: 'lock',
  checkpoints: 'checkpoints',
} as const;

/**
 * The name a free-running evaluation's captions and attention are filed under: the split for
 * the run's own beam (`decode.beam`, what training evaluated), `<split>-beam<b>` for any
 * other, so decoding again with another beam never replaces the captions its scores came from.
 *
 *   evaluationSplit('test', 3, 3);   // 'test'        -> captions-test.json
 *   evaluationSplit('test', 1, 3);   // 'test-beam1'  -> captions-test-beam1.json
 */
export function evaluationSplit(split: string, beam: number, runBeam: number): string {
  return beam === runBeam ? split : `${split}-beam${beam}`;
}

/** `captions-<split>.json`: generated captions in the COCO result format. */
export function captionsFile(split: string): string {
  assertSplitName(split);
  return `captions-${split}.json`;
}

/** `attention-<split>.json` (index) and `attention-<split>.bin` (float32 maps). */
export function attentionFiles(split: string): { index: string; data: string } {
  assertSplitName(split);
  return { index: `attention-${split}.json`, data: `attention-${split}.bin` };
}

function assertSplitName(split: string): void {
  if (!/^[A-Za-z0-9_-]+$/.test(split)) {
    throw new Error(`split ${JSON.stringify(split)} may use letters, digits, '_' and '-' only (e.g. val, test)`);
  }
}
