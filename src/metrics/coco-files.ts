/**
 * Caption files for scoring: reference captions from COCO caption annotations or a Karpathy
 * split file, COCO result files, and scoring one against the other.
 *
 * - Annotations are read by the datasets' own loaders (src/data/load.ts: one place validates
 *   those formats, with errors naming file, record and field), without looking for image
 *   files: scoring needs captions, not pixels. The image id is the COCO id (`cocoid`) when
 *   the file has one, else its own id, as COCO result files use; captions are the `raw`
 *   sentences (the toolkit tokenizes raw text); a Karpathy `split` selects images by the
 *   file's own split names, `restval` included.
 * - A COCO result file: `[{ image_id, caption }]`, one caption per image.
 *
 * Errors name the file, the entry and the field, e.g.
 * `results.json: entry 17: "caption" must be a string, got 42`.
 *
 * Images keep the order of the annotation file: the toolkit scores them in that order, and
 * the last bit of ROUGE-L and CIDEr-D depends on it.
 */
import * as path from 'path';

import { splitFromFileName } from '../data/coco-captions';
import { isRecord, readJsonFile, type CaptionDataset } from '../data/dataset';
import { loadDataset } from '../data/load';
import {
  listIds,
  scoreCaptions,
  type CaptionScores,
  type ImageId,
  type ScoreOptions,
} from './scorer';

export interface AnnotatedImage {
  id: ImageId;
  fileName: string;
  /** The split as the file names it (`train`, `val`, `test`, `restval`). */
  split: string;
}

/** Reference captions of a set of images, in file order. */
export interface CaptionAnnotations {
  /** The file (or label) they came from, for messages. */
  source: string;
  format: CaptionDataset['format'];
  images: AnnotatedImage[];
  /** Raw reference captions per image id. */
  captions: Map<ImageId, string[]>;
}

/** One generated caption per entry. */
export interface ResultEntry {
  imageId: ImageId;
  caption: string;
}

export interface CaptionResults {
  source: string;
  entries: ResultEntry[];
}

function describe(value: unknown): string {
  if (value === undefined) return 'nothing';
  const s = JSON.stringify(value);
  return s.length > 60 ? `${s.slice(0, 57)}...` : s;
}

function isImageId(v: unknown): v is ImageId {
  return (typeof v === 'number' && Number.isInteger(v)) || (typeof v === 'string' && v !== '');
}

function fieldError(source: string, where: string, field: string, rule: string, got: unknown): Error {
  return new Error(`${source}: ${where}: "${field}" must be ${rule}, got ${describe(got)}`);
}

/**
 * The reference captions of a loaded dataset, optionally of one split as the file names it
 * (a Karpathy file's `restval` stays its own split here).
 */
export function annotationsFromDataset(dataset: CaptionDataset, split?: string): CaptionAnnotations {
  let images = dataset.images;
  if (split !== undefined && dataset.format === 'karpathy') {
    images = images.filter((img) => img.sourceSplit === split);
    if (images.length === 0) {
      const present = [...new Set(dataset.images.map((img) => img.sourceSplit))].map((s) => JSON.stringify(s)).join(', ');
      throw new Error(`${dataset.file}: no images in split ${JSON.stringify(split)}; the file has ${present}`);
    }
  }
  const captions = new Map<ImageId, string[]>();
  const annotated = images.map((img): AnnotatedImage => {
    const id = img.cocoId ?? img.id;
    captions.set(id, img.captions.map((c) => c.raw));
    return { id, fileName: img.file, split: img.sourceSplit };
  });
  return { source: dataset.file, format: dataset.format, images: annotated, captions };
}

/**
 * Reads COCO caption annotations or a Karpathy split file (told apart by content), optionally
 * one Karpathy split. A COCO annotation file is one split already: `split` is then a label.
 */
export function readAnnotations(file: string, split?: string): CaptionAnnotations {
  const dataset = loadDataset(file, {
    imagesRoot: path.dirname(file),
    checkFiles: false,
    // A COCO annotation file's split only labels its images; scoring does not use it.
    split: splitFromFileName(file) ?? 'val',
  });
  return annotationsFromDataset(dataset, split);
}

/** Validates a parsed COCO result file. */
export function parseResults(json: unknown, source: string): CaptionResults {
  if (!Array.isArray(json)) throw new Error(`${source}: expected a JSON array of {"image_id", "caption"} entries`);
  const entries = json.map((e: unknown, i: number): ResultEntry => {
    const where = `entry ${i}`;
    if (!isRecord(e)) throw new Error(`${source}: ${where}: must be an object, got ${describe(e)}`);
    if (!isImageId(e.image_id)) throw fieldError(source, where, 'image_id', 'an integer or a non-empty string', e.image_id);
    // An empty caption is a (bad) result, not a broken file: the toolkit scores it 0.
    if (typeof e.caption !== 'string') throw fieldError(source, where, 'caption', 'a string', e.caption);
    return { imageId: e.image_id, caption: e.caption };
  });
  return { source, entries };
}

/** Reads a COCO result file. */
export function readResults(file: string): CaptionResults {
  return parseResults(readJsonFile(file), file);
}

export interface ScoreResultFileOptions extends Omit<ScoreOptions, 'subset'> {
  /** Annotations: a file (COCO or Karpathy) or already parsed. */
  annotations: string | CaptionAnnotations;
  /** Results: a file or already parsed. */
  results: string | CaptionResults;
  /** Score only this Karpathy split (with a COCO file: only recorded as the split). */
  split?: string;
  /** Score only the images the results cover, instead of failing on missing ones. */
  allowSubset?: boolean;
}

/**
 * Scores a result file against annotations, as the toolkit's COCOEvalCap does:
 * results for images outside the annotations (or the split) are an error, duplicated
 * image ids are an error, and annotated images without a result are an error unless
 * `allowSubset` (then the images present are scored and every score says
 * `subset: { evaluated, of }`; CIDEr-D's document frequencies come from them only).
 */
export async function scoreResultFile(options: ScoreResultFileOptions): Promise<CaptionScores> {
  const { annotations: a, results: r, allowSubset, ...scoreOptions } = options;
  let annotations: CaptionAnnotations;
  if (typeof a === 'string') {
    annotations = readAnnotations(a, options.split);
  } else if (options.split !== undefined && a.format === 'karpathy') {
    annotations = { ...a, images: a.images.filter((img) => img.split === options.split) };
  } else {
    annotations = a;
  }
  const results = typeof r === 'string' ? readResults(r) : r;
  const splitLabel = options.split !== undefined && annotations.format === 'karpathy' ? ` (split ${JSON.stringify(options.split)})` : '';
  const inSet = new Set(annotations.images.map((img) => img.id));

  const unknown = results.entries.filter((e) => !inSet.has(e.imageId)).map((e) => e.imageId);
  if (unknown.length > 0) {
    throw new Error(`${results.source}: ${unknown.length} entries are for images not in ${annotations.source}${splitLabel}: ${listIds(unknown)}`);
  }
  const firstEntry = new Map<ImageId, number>();
  const duplicates: string[] = [];
  results.entries.forEach((e, i) => {
    const first = firstEntry.get(e.imageId);
    if (first === undefined) firstEntry.set(e.imageId, i);
    else duplicates.push(`${JSON.stringify(e.imageId)} (entries ${first} and ${i})`);
  });
  if (duplicates.length > 0) {
    const shown = duplicates.slice(0, 10).join(', ');
    throw new Error(`${results.source}: ${duplicates.length} duplicated image ids, one caption per image is allowed: ${shown}${duplicates.length > 10 ? ', …' : ''}`);
  }
  const missing = annotations.images.filter((img) => !firstEntry.has(img.id)).map((img) => img.id);
  if (missing.length > 0 && !allowSubset) {
    throw new Error(
      `${results.source}: no caption for ${missing.length} of the ${annotations.images.length} images of ${annotations.source}${splitLabel}: ${listIds(missing)}; pass allowSubset: true (on the command line: captioning score --subset) to score only the images present`,
    );
  }

  const references = new Map<ImageId, string[]>();
  const hypotheses = new Map<ImageId, string>();
  const byId = new Map(results.entries.map((e) => [e.imageId, e.caption] as const));
  for (const img of annotations.images) {
    const caption = byId.get(img.id);
    if (caption === undefined) continue;
    const refs = annotations.captions.get(img.id);
    if (!refs || refs.length === 0) {
      throw new Error(`${annotations.source}: image ${JSON.stringify(img.id)} has no reference captions`);
    }
    references.set(img.id, refs);
    hypotheses.set(img.id, caption);
  }
  const subset = missing.length > 0 ? { evaluated: references.size, of: annotations.images.length } : undefined;
  return scoreCaptions(references, hypotheses, { ...scoreOptions, ...(subset ? { subset } : {}) });
}
