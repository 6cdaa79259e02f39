/**
 * `captioning train` and `captioning eval`: the captioner through the run store.
 *
 *   npx captioning train --profile quick --variant baseline [--set decoder.hidden=256 ...]
 *   npx captioning train --variant bert [--set words.bert.mode=causal]
 *   npx captioning train --config ablation.json --name no-attention
 *   npx captioning eval baseline-3f2a9c1b7d0e --split test --beam 3
 *
 * `train` trains, resumes or loads the run its config names and prints the run folder;
 * `eval` decodes a split free-running from the best checkpoint and writes the metrics
 * (with split, protocol and beam), the captions and the attention maps into the run.
 */
import { Command, Option } from 'commander';
import * as fs from 'fs';

import { formatScoresTable, type MetricEntry } from '../metrics';
import { BACKEND_KINDS, type BackendKind, initBackend } from '../compute/backend';
import { type CaptionerConfig, configFromIdentity, identityConfig, PROFILE_NAMES, type ProfileName, parseSettings, resolveConfig, validateConfig, VARIANT_NAMES, VARIANTS, type VariantName } from '../config';
import { experiment, findFinishedRun, recordEvaluation, type Run } from '../tracking';
import { captionerJob, evaluateSplit } from '../train/job';
import type { RunRequestFile, TrainChildMessage } from '../train/parallel';
import { runFingerprints } from '../train/setup';
import { openRunArgument } from './run-argument';
import { positiveInteger } from './options';

/** A JSON object file (a config override, or a request); errors name the flag and the file. */
function readConfigFile(file: string, flag = '--config'): Record<string, unknown> {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (error) {
    throw new Error(`${flag} ${file}: cannot read it (${(error as Error).message})`);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new Error(`${flag} ${file}: not valid JSON (${(error as Error).message})`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new Error(`${flag} ${file}: must hold a JSON object`);
  return value as Record<string, unknown>;
}

/** A request file of `trainRuns` (parallel.ts): the run's name and its whole resolved config; errors name the file. */
function readRequestFile(file: string): { name: string; config: CaptionerConfig } {
  const value = readConfigFile(file, '--request') as Partial<RunRequestFile>;
  if (value.schema !== 'captioning-lab/run-request@1') throw new Error(`--request ${file}: field "schema" should be "captioning-lab/run-request@1", got ${JSON.stringify(value.schema)}`);
  if (typeof value.name !== 'string' || value.name === '') throw new Error(`--request ${file}: field "name" should be a non-empty string, got ${JSON.stringify(value.name)}`);
  return { name: value.name, config: validateConfig(value.config) };
}

/** Sends a message to the parent process, when there is one (trainRuns forks with an IPC channel). */
function tellParent(message: TrainChildMessage): Promise<void> {
  const send = process.send?.bind(process);
  if (!send || !process.connected) return Promise.resolve();
  return new Promise((resolve) => send(message, undefined, {}, () => resolve()));
}

/** Prepares the data (the child's "prepared" moment: shared caches are written), then trains, resumes or loads. */
async function trainOrResume(config: CaptionerConfig, name: string, force: boolean): Promise<Run> {
  const job = await captionerJob(config, { name });
  await tellParent({ kind: 'prepared' });
  return experiment(job, { force });
}

export function trainCommand(): Command {
  return new Command('train')
    .description('train a captioner (or resume it, or load the finished run) and print its run folder')
    .addOption(new Option('--profile <profile>', 'quick (scenes, CPU) or paper (COCO, GPU)').choices(PROFILE_NAMES).default('quick'))
    .addOption(new Option('--variant <variant>', 'word inputs of the decoder').choices(VARIANT_NAMES).default('baseline'))
    .option('--config <file>', 'a JSON config (whole or partial), applied after profile and variant, before --set')
    .option('--set <key=value...>', 'override config values, e.g. --set train.epochs=4 decoder.hidden=256', [])
    .option('--name <name>', 'readable prefix of the run id (default: the variant)')
    .option('--request <file>', 'a whole run request, {schema, name, config} (how trainRuns starts a training process); replaces the options above')
    .addOption(new Option('--backend <backend>', 'the tfjs backend to use (default: $CAPTIONING_BACKEND, else the fastest that loads)').choices(BACKEND_KINDS))
    .option('--force', 'retrain from scratch even when the run exists')
    .action(async (options: { profile: ProfileName; variant: VariantName; config?: string; set: string[]; name?: string; request?: string; backend?: BackendKind; force?: boolean }) => {
      try {
        await initBackend(options.backend ?? null);
        let config: CaptionerConfig;
        let name: string;
        if (options.request !== undefined) {
          ({ config, name } = readRequestFile(options.request));
        } else {
          const fromFile = options.config === undefined ? {} : readConfigFile(options.config);
          config = resolveConfig(options.profile, VARIANTS[options.variant], fromFile, parseSettings(options.set));
          name = options.name ?? options.variant;
        }
        // A finished run of this content (under any name) is found from its fingerprints, before any feature or BERT vector is loaded.
        const fingerprints = options.force ? null : await runFingerprints(config);
        const found = fingerprints ? findFinishedRun({ name, config: identityConfig(config), epochs: config.train.epochs, seed: config.seed, fingerprints }) : undefined;
        if (found) process.stderr.write(`[captioning-lab] run ${found.id}: finished, loaded from ${found.dir} (no training)\n`);
        const run = found ?? (await trainOrResume(config, name, options.force ?? false));
        await tellParent({ kind: 'result', id: run.id, dir: run.dir, origin: run.origin });
        process.stdout.write(`${run.origin} run ${run.id}\n${run.dir}\n`);
      } catch (error) {
        await tellParent({ kind: 'error', message: error instanceof Error ? error.message : String(error) });
        throw error;
      } finally {
        if (process.connected) process.disconnect();
      }
    });
}

export function evalCommand(): Command {
  return new Command('eval')
    .description('decode a split free-running from the best checkpoint and write the metrics into the run summary')
    .argument('<run>', 'run id, a unique id prefix, or the run folder `captioning train` printed')
    .addOption(new Option('--split <split>', 'split to decode').choices(['val', 'test']).default('test'))
    .option('--beam <size>', 'beam size (1: greedy)', '3')
    .option('--max-length <words>', 'longest caption (default: the run config)')
    .action(async (runArgument: string, options: { split: 'val' | 'test'; beam: string; maxLength?: string }) => {
      const beam = positiveInteger('--beam', options.beam);
      const run = openRunArgument(runArgument, { argument: 'eval <run>' });
      const config = configFromIdentity(run.config.config);
      const maxLength = options.maxLength === undefined ? config.decode.maxLength : positiveInteger('--max-length', options.maxLength);
      const job = await captionerJob(config, { name: run.config.name, purpose: 'decode' });
      const state = await run.restore(job, 'best');
      try {
        const { result, ...evaluation } = await evaluateSplit(state, options.split, { beam, maxLength, lengthPenalty: config.decode.lengthPenalty, runBeam: config.decode.beam });
        await recordEvaluation(run, evaluation);
        process.stdout.write(formatScoresTable(result.metrics as MetricEntry[]));
        for (const m of evaluation.metrics ?? []) {
          if (m.name.startsWith('attention')) process.stdout.write(`${m.name}: ${m.value.toFixed(4)}\n`);
        }
        process.stdout.write(`written: ${run.dir}/summary.json\n`);
      } finally {
        job.dispose?.(state);
      }
    });
}
