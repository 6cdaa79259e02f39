/**
 * The in-memory caption dataset every loader returns, and the bookkeeping they share:
 * problems that name the file, record and field; strict and lenient modes; a report of what
 * was skipped and why; the dataset fingerprint that goes into run ids.
 *
 * Shapes are chosen for full MS COCO (123,287 images, 616,767 captions): one object per
 * image with its captions inside, ids checked with Maps and Sets (linear time), image files
 * checked with one directory listing per folder, never one stat per file.
 */
import { createHash } from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import type { RestvalPolicy } from '../config';

/** The splits a model sees. Karpathy's `restval` is folded into one of them (or dropped). */
export const SPLITS = ['train', 'val', 'test'] as const;
export type Split = (typeof SPLITS)[number];

/** One reference caption. */
export interface Caption {
  /** Sentence id (`sentid`, or the COCO annotation id), unique in the dataset. */
  id: number;
  /** The caption as written. */
  raw: string;
  /** Lower-cased word tokens. */
  tokens: string[];
  /** Fields of the record beyond the standard ones, kept as read (e.g. the scenes' `mentions`). */
  extra?: Record<string, unknown>;
}

/** One image and its captions. */
export interface DatasetImage {
  /** `imgid` of a Karpathy file, the image `id` of a COCO annotation file; unique. */
  id: number;
  /** The MS COCO image id (`cocoid`), where known: the id COCO result files use. */
  cocoId?: number;
  /** Path of the image file relative to the images root, with '/' separators. */
  file: string;
  split: Split;
  /** The split as the file names it (`restval` included). */
  sourceSplit: string;
  captions: Caption[];
  /** Fields of the record beyond the standard ones, kept as read (e.g. the scenes' `objects`). */
  extra?: Record<string, unknown>;
}

export type DatasetFormat = 'karpathy' | 'coco-captions';

export interface CaptionDataset {
  /** `coco`, `flickr8k`, `flickr30k`, `scenes`, … (the file's `dataset` field, else its name). */
  name: string;
  /** The file it was read from. */
  file: string;
  format: DatasetFormat;
  /** The folder image paths are relative to. */
  imagesRoot: string;
  images: DatasetImage[];
  report: LoadReport;
  /** Short SHA-256 of the canonical content (images, splits, captions); goes into run ids. */
  fingerprint: string;
}

/** Strict: any bad record fails the load. Lenient: bad records are skipped and reported. */
export type LoadMode = 'strict' | 'lenient';

/** Where Karpathy's `restval` images go: into train (the reference code's choice), val, or nowhere. */

/** One thing wrong with a dataset, located precisely. */
export interface DatasetProblem {
  /** The dataset file. */
  file: string;
  /** The record, e.g. `images[12] (imgid 12, "a.jpg")` or `annotations[7] (id 7)`. */
  record: string;
  /** The field, e.g. `sentences[2].tokens`; absent when the whole record is at fault. */
  field?: string;
  /** What is wrong, with the offending value. */
  message: string;
  /** What lenient loading did about it. */
  action: 'skipped image' | 'skipped caption' | 'skipped annotation' | 'dropped';
}

/** What a load read, kept and skipped. */
export interface LoadReport {
  file: string;
  format: DatasetFormat;
  mode: LoadMode;
  imagesRead: number;
  captionsRead: number;
  imagesKept: number;
  captionsKept: number;
  /** Records skipped (lenient mode) or dropped by policy (`restval: 'drop'`), each with its reason. */
  skipped: DatasetProblem[];
  /** Images per split as the file names them (`restval` included), before any skipping. */
  sourceSplits: Record<string, number>;
}

/** A dataset that cannot be loaded; `problems` holds every problem found, not just the first. */
export class DatasetError extends Error {
  constructor(
    message: string,
    readonly problems: DatasetProblem[] = [],
  ) {
    super(message);
    this.name = 'DatasetError';
  }
}

/** `file: record: field: message`, the one-line form of a problem. */
export function formatProblem(problem: DatasetProblem): string {
  const field = problem.field ? `field "${problem.field}": ` : '';
  return `${problem.file}: ${problem.record}: ${field}${problem.message}`;
}

/** How many problems a strict-mode error message lists before "... and N more". */
const LISTED_PROBLEMS = 20;

/**
 * Collects the problems of one load. In strict mode `finish()` throws one DatasetError
 * listing them; in lenient mode they become the report's `skipped` list.
 */
export class ProblemLog {
  readonly problems: DatasetProblem[] = [];

  constructor(
    readonly file: string,
    readonly mode: LoadMode,
  ) {}

  add(record: string, field: string | undefined, message: string, action: DatasetProblem['action']): void {
    this.problems.push({ file: this.file, record, ...(field ? { field } : {}), message, action });
  }

  /** Throws in strict mode when anything was found. */
  finish(): void {
    const problems = this.problems.filter((p) => p.action !== 'dropped');
    if (this.mode === 'lenient' || problems.length === 0) return;
    const listed = problems.slice(0, LISTED_PROBLEMS).map((p) => '  ' + formatProblem(p));
    const more = problems.length > LISTED_PROBLEMS ? [`  ... and ${problems.length - LISTED_PROBLEMS} more`] : [];
    const noun = problems.length === 1 ? 'problem' : 'problems';
    throw new DatasetError(
      `${this.file}: ${problems.length} ${noun} (load with mode 'lenient' to skip the bad records and get them reported):\n` +
        [...listed, ...more].join('\n'),
      problems,
    );
  }
}

/** A fatal, structural problem (not JSON, no `images` list): thrown at once in every mode. */
export function structuralError(file: string, message: string): DatasetError {
  return new DatasetError(`${file}: ${message}`, [{ file, record: '(file)', message, action: 'dropped' }]);
}

/** Reads and parses a JSON file, with errors that name it. */
export function readJsonFile(file: string): unknown {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw structuralError(file, code === 'ENOENT' ? 'no such file' : `cannot read: ${(error as Error).message}`);
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    throw structuralError(file, `not valid JSON: ${(error as Error).message}`);
  }
}

/** A JSON object (not an array, not null). */
export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A valid image, caption or annotation id: a whole number >= 0. */
export function isId(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= 0;
}

/** JSON type of a value for messages: `string`, `number`, `array`, `null`, … */
export function jsonType(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  return typeof value;
}

/** A value quoted for a message, cut to a readable length. */
export function quote(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 60 ? text.slice(0, 57) + '...' : text;
}

/**
 * Checks that an image path stays inside the images root: relative, no `..` segment, not
 * empty. Returns the reason it does not, else undefined.
 */
export function unsafeImagePath(file: string): string | undefined {
  if (file.trim() === '') return 'is empty';
  if (path.isAbsolute(file) || /^[a-zA-Z]:[\\/]/.test(file)) return `${quote(file)} is an absolute path; paths are relative to the images root`;
  if (file.split(/[\\/]/).includes('..')) return `${quote(file)} leaves the images root ('..')`;
  return undefined;
}

/**
 * Answers "does this file exist under the root?" with one directory listing per folder
 * (COCO's train2014 folder holds 82,783 files: one readdir instead of 82,783 stats).
 */
export class FileIndex {
  private readonly listings = new Map<string, Set<string> | null>();

  constructor(readonly root: string) {}

  has(relative: string): boolean {
    const full = path.join(this.root, relative);
    const dir = path.dirname(full);
    let listing = this.listings.get(dir);
    if (listing === undefined) {
      try {
        listing = new Set(fs.readdirSync(dir));
      } catch {
        listing = null;
      }
      this.listings.set(dir, listing);
    }
    return listing !== null && listing.has(path.basename(full));
  }
}

/** Checks the images root itself before any record is looked at. */
export function checkImagesRoot(file: string, imagesRoot: string): void {
  let stat: fs.Stats;
  try {
    stat = fs.statSync(imagesRoot);
  } catch {
    throw structuralError(file, `images root ${quote(imagesRoot)} does not exist`);
  }
  if (!stat.isDirectory()) throw structuralError(file, `images root ${quote(imagesRoot)} is not a folder`);
}

/** The absolute path of an image of a dataset. */
export function imagePath(dataset: Pick<CaptionDataset, 'imagesRoot'>, image: Pick<DatasetImage, 'file'>): string {
  return path.join(dataset.imagesRoot, image.file);
}

/** The images of one split, in file order. */
export function imagesOf(dataset: Pick<CaptionDataset, 'images'>, split: Split): DatasetImage[] {
  return dataset.images.filter((image) => image.split === split);
}

/** Images and captions per split. */
export function countSplits(images: readonly DatasetImage[]): Record<Split, { images: number; captions: number }> {
  const counts = { train: { images: 0, captions: 0 }, val: { images: 0, captions: 0 }, test: { images: 0, captions: 0 } };
  for (const image of images) {
    counts[image.split].images += 1;
    counts[image.split].captions += image.captions.length;
  }
  return counts;
}

/** Length of a dataset fingerprint (hex digits of SHA-256). */
export const FINGERPRINT_LENGTH = 12;

/**
 * Short SHA-256 of what a model sees of the dataset: for every image in order its id,
 * file and split, and every caption's id, raw text and tokens. Streaming: one hash update
 * per image, no large string built.
 */
export function datasetFingerprint(images: readonly DatasetImage[]): string {
  const hash = createHash('sha256').update('captioning-lab dataset v1\n');
  for (const image of images) {
    hash.update(JSON.stringify([image.id, image.file, image.split, image.captions.map((c) => [c.id, c.raw, c.tokens])]));
    hash.update('\n');
  }
  return hash.digest('hex').slice(0, FINGERPRINT_LENGTH);
}

/** A few lines describing a load: counts, and what was skipped grouped by reason. */
export function formatLoadReport(report: LoadReport, maxListed = 10): string {
  const lines = [
    `${report.file} (${report.format}, ${report.mode}): ${report.imagesKept}/${report.imagesRead} images, ` +
      `${report.captionsKept}/${report.captionsRead} captions kept`,
    `  splits in the file: ${Object.entries(report.sourceSplits).map(([s, n]) => `${s} ${n}`).join(', ')}`,
  ];
  if (report.skipped.length > 0) {
    const byAction = new Map<string, number>();
    for (const p of report.skipped) byAction.set(p.action, (byAction.get(p.action) ?? 0) + 1);
    lines.push(`  skipped: ${[...byAction].map(([a, n]) => `${n} x ${a}`).join(', ')}`);
    for (const p of report.skipped.slice(0, maxListed)) lines.push(`    ${p.action}: ${formatProblem(p)}`);
    if (report.skipped.length > maxListed) lines.push(`    ... and ${report.skipped.length - maxListed} more`);
  }
  return lines.join('\n');
}
