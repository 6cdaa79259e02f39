/**
 * SPICE through the official spice-1.0.jar, as the toolkit runs it (pycocoevalcap
 * `spice.py`).
 *
 * Input file: a JSON array, images sorted by id, of `{image_id, test, refs}` with the
 * tokenized captions. Command, from the jar's folder:
 * `java -jar -Xmx8G spice-1.0.jar in.json [-cache DIR] -out out.json -subset -silent`.
 * Output: per image `scores.All.f` (null becomes NaN); the corpus score is their mean
 * (numpy's sum order). The jar needs its lib/ folder (Stanford CoreNLP models) beside it.
 * Per-image scores are keyed by image id (the toolkit's eval.py pairs the sorted scores
 * with its unsorted image list, so its per-image SPICE can land on the wrong image).
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

import { numpyMean } from './exact-math';
import { runProcess, tail, type JavaCommand } from './java';

export interface SpiceInputItem {
  image_id: number | string;
  test: string;
  refs: string[];
}

export interface SpiceResult {
  corpus: number;
  /** `scores.All.f` per image id. */
  perImage: Map<number | string, number>;
}

/** The toolkit's command line for the jar. */
export function spiceCommand(
  java: string,
  jar: string,
  inputFile: string,
  outputFile: string,
  cacheDir?: string,
): JavaCommand {
  return {
    command: java,
    args: [
      '-jar', '-Xmx8G', jar, inputFile,
      ...(cacheDir !== undefined ? ['-cache', cacheDir] : []),
      '-out', outputFile, '-subset', '-silent',
    ],
    cwd: path.dirname(jar),
  };
}

/** Python's `sorted()` on the ids: numbers numerically, strings by code point. */
function compareIds(a: number | string, b: number | string): number {
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  const sa = String(a);
  const sb = String(b);
  return sa < sb ? -1 : sa > sb ? 1 : 0;
}

/** The input file's content: images sorted by id. */
export function spiceInput(
  imageIds: readonly (number | string)[],
  references: readonly (readonly string[])[],
  hypotheses: readonly string[],
): SpiceInputItem[] {
  const order = imageIds.map((_, i) => i).sort((i, j) => compareIds(imageIds[i], imageIds[j]));
  return order.map((i) => ({ image_id: imageIds[i], test: hypotheses[i], refs: [...references[i]] }));
}

function toFloat(v: unknown): number {
  return typeof v === 'number' ? v : typeof v === 'string' && v.trim() !== '' ? Number(v) : NaN;
}

/** Reads the jar's output file. */
export function parseSpiceOutput(json: unknown, source: string): SpiceResult {
  if (!Array.isArray(json)) throw new Error(`${source}: expected a JSON array of per-image results`);
  const perImage = new Map<number | string, number>();
  const fs_: number[] = [];
  json.forEach((item: unknown, i) => {
    const rec = item as { image_id?: unknown; scores?: { All?: { f?: unknown } } };
    if (typeof rec !== 'object' || rec === null || (typeof rec.image_id !== 'number' && typeof rec.image_id !== 'string')) {
      throw new Error(`${source}: entry ${i}: "image_id" must be a number or string`);
    }
    const f = toFloat(rec.scores?.All?.f);
    perImage.set(rec.image_id, f);
    fs_.push(f);
  });
  return { corpus: numpyMean(fs_), perImage };
}

/** Writes the input, runs the jar, reads the scores; temporary files are removed. */
export async function runSpice(
  java: string,
  jar: string,
  imageIds: readonly (number | string)[],
  references: readonly (readonly string[])[],
  hypotheses: readonly string[],
  cacheDir?: string,
): Promise<SpiceResult> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'captioning-spice-'));
  try {
    const inFile = path.join(dir, 'in.json');
    const outFile = path.join(dir, 'out.json');
    fs.writeFileSync(inFile, JSON.stringify(spiceInput(imageIds, references, hypotheses), null, 2));
    if (cacheDir !== undefined) fs.mkdirSync(cacheDir, { recursive: true });
    const result = await runProcess(spiceCommand(java, jar, inFile, outFile, cacheDir));
    if (result.code !== 0) throw new Error(`SPICE exited with code ${result.code}: ${tail(result.stderr)}`);
    return parseSpiceOutput(JSON.parse(fs.readFileSync(outFile, 'utf8')), outFile);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
