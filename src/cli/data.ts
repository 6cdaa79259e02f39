/**
 * `captioning data scenes|check`: generate the embedded scenes dataset, and validate any
 * caption dataset with its images.
 *
 *   captioning data scenes --out results/data/scenes-quick --images 1000 --seed 1 [--occlusion 0.3] [--size 64]
 *   captioning data check --dataset results/data/scenes-quick/dataset_scenes.json --images results/data/scenes-quick
 *   captioning data check --dataset coco/dataset_coco.json --images coco/ --decode all
 *
 * `check` prints the statistics and every problem found, and exits non-zero when the
 * dataset cannot be used. It decodes a seeded sample of the images (DEFAULT_DECODE_SAMPLE)
 * unless `--decode all` (every image) or `--decode none`.
 */
import { Command } from 'commander';

import { checkDataset, DEFAULT_DECODE_SAMPLE, formatCheck } from '../data/check';
import type { RestvalPolicy } from '../config';
import { ensureScenes, SCENES_QUICK } from '../data/scenes/generate';

/** Where the commands write; the defaults are the process's streams (tests pass their own). */
export interface DataCommandIo {
  out: (text: string) => void;
  err: (text: string) => void;
}

const defaultIo: DataCommandIo = {
  out: (text) => process.stdout.write(text),
  err: (text) => process.stderr.write(text),
};

/** Parses a whole number option, with an error naming the option and the value. */
function wholeNumber(option: string, min: number): (value: string) => number {
  return (value) => {
    const n = Number(value);
    if (!/^\d+$/.test(value.trim()) || !Number.isInteger(n) || n < min) {
      throw new Error(`${option} must be a whole number >= ${min}, got ${JSON.stringify(value)}`);
    }
    return n;
  };
}

function probability(option: string): (value: string) => number {
  return (value) => {
    const p = Number(value);
    if (value.trim() === '' || !(p >= 0 && p <= 1)) throw new Error(`${option} must be a probability in [0, 1], got ${JSON.stringify(value)}`);
    return p;
  };
}

const RESTVAL_POLICIES: RestvalPolicy[] = ['train', 'val', 'drop'];

export function dataCommand(io: DataCommandIo = defaultIo): Command {
  // Settings made before the subcommands are created are inherited by them.
  const data = new Command('data')
    .description('generate and check datasets')
    .showHelpAfterError()
    .exitOverride()
    .configureOutput({ writeOut: io.out, writeErr: io.err });

  data
    .command('scenes')
    .description('generate the embedded scenes dataset (Karpathy JSON + PNG); reused when --out holds one made with the same parameters')
    .requiredOption('--out <dir>', 'output folder')
    .option('--images <n>', 'number of images (10% val, 10% test)', String(SCENES_QUICK.images))
    .option('--seed <s>', 'random seed: the same seed gives byte-identical files', String(SCENES_QUICK.seed))
    .option('--occlusion <p>', 'probability that an occluder hides part of each object', String(SCENES_QUICK.occlusion))
    .option('--size <px>', 'image side in pixels', String(SCENES_QUICK.size))
    .option('--captions <n>', 'captions per image', String(SCENES_QUICK.captionsPerImage))
    .option('--force', 'regenerate even when the folder holds the same dataset')
    .action(async (options: { out: string; images: string; seed: string; occlusion: string; size: string; captions: string; force?: boolean }) => {
      const params = {
        images: wholeNumber('--images', 1)(options.images),
        seed: wholeNumber('--seed', 0)(options.seed),
        occlusion: probability('--occlusion')(options.occlusion),
        size: wholeNumber('--size', 32)(options.size),
        captionsPerImage: wholeNumber('--captions', 1)(options.captions),
      };
      const info = await ensureScenes(options.out, params, { force: options.force, log: (line) => io.err(line + '\n') });
      const m = info.manifest;
      io.out(
        [
          `${info.generated ? 'generated' : 'reused'} ${info.dir} in ${info.seconds.toFixed(1)} s`,
          `  images ${m.params.images} (train ${m.splits.train}, val ${m.splits.val}, test ${m.splits.test}), ${m.captions} captions, ${m.params.size} px, seed ${m.params.seed}, occlusion ${m.params.occlusion}`,
          `  dataset ${info.datasetFile} (fingerprint ${m.fingerprint})`,
          `  load it with --dataset ${info.datasetFile} --images ${info.imagesRoot}`,
        ].join('\n') + '\n',
      );
    });

  data
    .command('check')
    .description('validate a Karpathy-format or COCO-annotation dataset and its images, and print its statistics')
    .requiredOption('--dataset <file>', 'dataset_*.json (Karpathy split file) or captions_*.json (COCO annotations)')
    .requiredOption('--images <dir>', 'images root: image paths in the file are relative to it')
    .option('--lenient', 'records that lenient loading skips are warnings, not problems')
    .option('--restval <policy>', `where restval images go: ${RESTVAL_POLICIES.join(' | ')}`, 'train')
    .option('--min-count <n>', 'minimum word count for the vocabulary statistics', '5')
    .option('--decode <which>', `images to decode: a seeded sample of N (the same N images on every run), 'all' (every image: slow on COCO-sized data) or 'none'`, String(DEFAULT_DECODE_SAMPLE))
    .option('--json', 'print the result as JSON')
    .action(async (options: { dataset: string; images: string; lenient?: boolean; restval: string; minCount: string; decode: string; json?: boolean }) => {
      if (!(RESTVAL_POLICIES as string[]).includes(options.restval)) {
        throw new Error(`--restval must be one of ${RESTVAL_POLICIES.join(', ')}, got ${JSON.stringify(options.restval)}`);
      }
      const decode = options.decode === 'all' || options.decode === 'none' ? options.decode : wholeNumber("--decode (or 'all', 'none')", 1)(options.decode);
      const result = await checkDataset(options.dataset, options.images, {
        mode: options.lenient ? 'lenient' : 'strict',
        restval: options.restval as RestvalPolicy,
        minCount: wholeNumber('--min-count', 1)(options.minCount),
        decode,
        log: (line) => io.err(line + '\n'),
      });
      io.out((options.json ? JSON.stringify(result, null, 2) : formatCheck(result)) + '\n');
      if (!result.usable) process.exitCode = 1;
    });

  return data;
}
