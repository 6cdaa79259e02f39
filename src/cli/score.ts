/**
 * `captioning score --annotations ANN.json --results RES.json [--split test]`: scores a COCO
 * result file with the COCO caption toolkit's metrics, prints a table and writes the scores
 * (corpus and per image, each with its protocol) as JSON.
 */
import { Command, Option } from 'commander';

import { writeFileAtomic } from '../common/atomic-write';
import { formatScoresTable, METRIC_FAMILIES, PROTOCOLS, scoreResultFile, type MetricFamily, type Protocol } from '../metrics';

interface ScoreCommandOptions {
  annotations: string;
  results: string;
  split?: string;
  protocol?: Protocol;
  beam?: string;
  metrics?: string;
  subset?: boolean;
  out?: string;
}

/** `results.json` -> `results.scores.json`, beside it. */
export function defaultScoresPath(resultsFile: string): string {
  return resultsFile.replace(/(\.json)?$/i, '.scores.json');
}

/** `--beam`'s value: a whole number >= 1; an error names the flag and the value given. */
function beamSize(raw: string): number {
  const value = Number(raw);
  if (!/^\s*\d+\s*$/.test(raw) || !Number.isInteger(value) || value < 1) {
    throw new Error(`--beam must be a whole number >= 1 (the beam size the captions were decoded with), got ${JSON.stringify(raw)}`);
  }
  return value;
}

export function scoreCommand(): Command {
  return new Command('score')
    .description('score a COCO result file ([{image_id, caption}]) against caption annotations')
    .requiredOption('--annotations <file>', 'COCO caption annotations (captions_*.json) or a Karpathy split file')
    .requiredOption('--results <file>', 'COCO result file: [{"image_id", "caption"}]')
    .option('--split <split>', 'Karpathy split to evaluate (train, val, test, restval); recorded with the scores')
    .addOption(new Option('--protocol <protocol>', 'how the captions were produced, recorded with the scores').choices(PROTOCOLS))
    .option('--beam <size>', 'beam size used to produce them, recorded with the scores')
    .option('--metrics <list>', `comma-separated subset of ${METRIC_FAMILIES.join(',')}`)
    .option('--subset', 'score only the images present in the results instead of failing on missing ones')
    .option('--out <file>', 'where to write the JSON (default: RESULTS.scores.json)')
    .action(async (options: ScoreCommandOptions) => {
      const beam = options.beam === undefined ? undefined : beamSize(options.beam);
      const metrics = options.metrics?.split(',').map((m) => m.trim()) as MetricFamily[] | undefined;
      const scores = await scoreResultFile({
        annotations: options.annotations,
        results: options.results,
        split: options.split,
        protocol: options.protocol,
        beam,
        metrics,
        allowSubset: options.subset ?? false,
      });
      process.stdout.write(formatScoresTable(scores));
      const out = options.out ?? defaultScoresPath(options.results);
      const record = { annotations: options.annotations, results: options.results, ...scores };
      await writeFileAtomic(out, JSON.stringify(record, null, 2) + '\n');
      process.stdout.write(`written: ${out}\n`);
    });
}
