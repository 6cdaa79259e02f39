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
import { PROFILE_NAMES, type ProfileName, parseSettings, resolveConfig, validateConfig, VARIANT_NAMES, VARIANTS, type VariantName } from '../model/config';
import { experiment, loadRun, recordEvaluation } from '../tracking';
import { captionerJob, evaluateSplit } from '../train/job';

/** A JSON config file as an override; errors name the file. */
function readConfigFile(file: string): Record<string, unknown> {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (error) {
    throw new Error(`--config ${file}: cannot read it (${(error as Error).message})`);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new Error(`--config ${file}: not valid JSON (${(error as Error).message})`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new Error(`--config ${file}: must hold a JSON object of config keys`);
  return value as Record<string, unknown>;
}

function positiveInteger(flag: string, raw: string): number {
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 1) throw new Error(`${flag} must be a positive whole number, got ${JSON.stringify(raw)}`);
  return value;
}

export function trainCommand(): Command {
  return new Command('train')
    .description('train a captioner (or resume it, or load the finished run) and print its run folder')
    .addOption(new Option('--profile <profile>', 'quick (scenes, CPU) or paper (COCO, GPU)').choices(PROFILE_NAMES).default('quick'))
    .addOption(new Option('--variant <variant>', 'word inputs of the decoder').choices(VARIANT_NAMES).default('baseline'))
    .option('--config <file>', 'a JSON config (whole or partial), applied after profile and variant, before --set')
    .option('--set <key=value...>', 'override config values, e.g. --set train.epochs=4 decoder.hidden=256', [])
    .option('--name <name>', 'readable prefix of the run id (default: the variant)')
    .option('--force', 'retrain from scratch even when the run exists')
    .action(async (options: { profile: ProfileName; variant: VariantName; config?: string; set: string[]; name?: string; force?: boolean }) => {
      const fromFile = options.config === undefined ? {} : readConfigFile(options.config);
      const config = resolveConfig(options.profile, VARIANTS[options.variant], fromFile, parseSettings(options.set));
      const job = await captionerJob(config, { name: options.name ?? options.variant });
      const run = await experiment(job, { force: options.force ?? false });
      process.stdout.write(`${run.origin} run ${run.id}\n${run.dir}\n`);
    });
}

export function evalCommand(): Command {
  return new Command('eval')
    .description('decode a split free-running from the best checkpoint and write the metrics into the run summary')
    .argument('<run>', 'run id (or a unique prefix)')
    .addOption(new Option('--split <split>', 'split to decode').choices(['val', 'test']).default('test'))
    .option('--beam <size>', 'beam size (1: greedy)', '3')
    .option('--max-length <words>', 'longest caption (default: the run config)')
    .action(async (id: string, options: { split: 'val' | 'test'; beam: string; maxLength?: string }) => {
      const run = loadRun(id);
      const config = validateConfig(run.config.config);
      const beam = positiveInteger('--beam', options.beam);
      const maxLength = options.maxLength === undefined ? config.decode.maxLength : positiveInteger('--max-length', options.maxLength);
      const job = await captionerJob(config, { name: run.config.name });
      const state = await run.restore(job, 'best');
      try {
        const { result, ...evaluation } = await evaluateSplit(state, options.split, { beam, maxLength, lengthPenalty: config.decode.lengthPenalty });
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
