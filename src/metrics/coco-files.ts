/**
 * COCO caption files: reading, validating, and scoring a result file against annotations.
 *
 * Three formats:
 * - COCO caption annotations (`captions_val2014.json`):
 *   `{ images: [{ id, file_name }], annotations: [{ image_id, caption }] }`.
 * - A Karpathy split file (`dataset_coco.json`, also Flickr8k/30k):
 *   `{ images: [{ imgid, cocoid?, filename, split, sentences: [{ raw, tokens }] }] }`;
 *   the image id is `cocoid` when present, else `imgid`; captions are the `raw` sentences
 *   (the toolkit tokenizes raw text); `restval` is a split of its own.
 * - A COCO result file: `[{ image_id, caption }]`, one caption per image.
 *
 * Every problem is an error naming the file, the entry (0-based index in its array) and the
 * field, e.g. `results.json: entry 17: "caption" must be a string, got 42`.
 * Images keep the order of the annotation file: the toolkit scores them in that order, and
 * the last bit of ROUGE-L and CIDEr-D depends on it.
 */
import * as fs from 'fs';

import {
  listIds,
  scoreCaptions,
  type CaptionScores,
  type ImageId,
  type ScoreOptions,
} from './scorer';

export interface AnnotatedImage {
  id: ImageId;
  fileName?: string;
  /** Karpathy split (`train`, `val`, `test`, `restval`); absent for COCO files. */
  split?: string;
}

/** Reference captions of a set of images, in file order. */
export interface CaptionAnnotations {
  /** The file (or label) they came from, for messages. */
  source: string;
  format: 'coco' | 'karpathy';
  images: AnnotatedImage[];
  /** Raw reference captions per image id (images without captions are absent). */
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

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function isImageId(v: unknown): v is ImageId {
  return (typeof v === 'number' && Number.isInteger(v)) || (typeof v === 'string' && v !== '');
}

function fieldError(source: string, where: string, field: string, rule: string, got: unknown): Error {
  return new Error(`${source}: ${where}: "${field}" must be ${rule}, got ${describe(got)}`);
}

function readJson(file: string): unknown {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    throw new Error(`${file}: cannot read: ${(err as Error).message}`);
  }
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new Error(`${file}: not valid JSON: ${(err as Error).message}`);
  }
}

/** Validates a parsed COCO caption annotation file. */
export function parseCocoAnnotations(json: unknown, source: string): CaptionAnnotations {
  if (!isRecord(json)) throw new Error(`${source}: expected a JSON object with "images" and "annotations"`);
  if (!Array.isArray(json.images)) throw new Error(`${source}: "images" must be an array, got ${describe(json.images)}`);
  if (!Array.isArray(json.annotations)) {
    throw new Error(`${source}: "annotations" must be an array, got ${describe(json.annotations)}`);
  }
  const images: AnnotatedImage[] = [];
  const known = new Set<ImageId>();
  json.images.forEach((img: unknown, i: number) => {
    const where = `images entry ${i}`;
    if (!isRecord(img)) throw new Error(`${source}: ${where}: must be an object, got ${describe(img)}`);
    if (!isImageId(img.id)) throw fieldError(source, where, 'id', 'an integer or a non-empty string', img.id);
    if (img.file_name !== undefined && typeof img.file_name !== 'string') {
      throw fieldError(source, where, 'file_name', 'a string', img.file_name);
    }
    if (known.has(img.id)) throw new Error(`${source}: ${where}: image id ${describe(img.id)} appears twice`);
    known.add(img.id);
    images.push(img.file_name === undefined ? { id: img.id } : { id: img.id, fileName: img.file_name });
  });
  const captions = new Map<ImageId, string[]>();
  json.annotations.forEach((ann: unknown, i: number) => {
    const where = `annotations entry ${i}`;
    if (!isRecord(ann)) throw new Error(`${source}: ${where}: must be an object, got ${describe(ann)}`);
    if (!isImageId(ann.image_id)) throw fieldError(source, where, 'image_id', 'an integer or a non-empty string', ann.image_id);
    if (typeof ann.caption !== 'string') throw fieldError(source, where, 'caption', 'a string', ann.caption);
    if (!known.has(ann.image_id)) {
      throw new Error(`${source}: ${where}: "image_id" ${describe(ann.image_id)} is not in "images"`);
    }
    const list = captions.get(ann.image_id);
    if (list) list.push(ann.caption);
    else captions.set(ann.image_id, [ann.caption]);
  });
  return { source, format: 'coco', images, captions };
}

/** The splits of a Karpathy file. */
export const KARPATHY_SPLITS = ['train', 'val', 'test', 'restval'] as const;

/** Validates a parsed Karpathy split file; with `split`, keeps that split only. */
export function parseKarpathy(json: unknown, source: string, split?: string): CaptionAnnotations {
  if (!isRecord(json) || !Array.isArray(json.images)) {
    throw new Error(`${source}: expected a JSON object with an "images" array (Karpathy split format)`);
  }
  const images: AnnotatedImage[] = [];
  const captions = new Map<ImageId, string[]>();
  const splitsSeen = new Set<string>();
  json.images.forEach((img: unknown, i: number) => {
    const where = `images entry ${i}`;
    if (!isRecord(img)) throw new Error(`${source}: ${where}: must be an object, got ${describe(img)}`);
    if (img.cocoid !== undefined && !isImageId(img.cocoid)) {
      throw fieldError(source, where, 'cocoid', 'an integer or a non-empty string', img.cocoid);
    }
    if (img.cocoid === undefined && !isImageId(img.imgid)) {
      throw fieldError(source, where, 'imgid', 'an integer or a non-empty string (or give "cocoid")', img.imgid);
    }
    if (typeof img.split !== 'string' || img.split === '') {
      throw fieldError(source, where, 'split', 'a non-empty string', img.split);
    }
    if (img.filename !== undefined && typeof img.filename !== 'string') {
      throw fieldError(source, where, 'filename', 'a string', img.filename);
    }
    if (!Array.isArray(img.sentences) || img.sentences.length === 0) {
      throw fieldError(source, where, 'sentences', 'a non-empty array', img.sentences);
    }
    const raws = img.sentences.map((s: unknown, j: number) => {
      if (!isRecord(s) || typeof s.raw !== 'string') {
        throw fieldError(source, `${where}: sentences entry ${j}`, 'raw', 'a string', isRecord(s) ? s.raw : s);
      }
      return s.raw;
    });
    splitsSeen.add(img.split);
    if (split !== undefined && img.split !== split) return;
    const id = (img.cocoid ?? img.imgid) as ImageId;
    if (captions.has(id)) throw new Error(`${source}: ${where}: image id ${describe(id)} appears twice`);
    const entry: AnnotatedImage = { id, split: img.split };
    if (typeof img.filename === 'string') entry.fileName = img.filename;
    images.push(entry);
    captions.set(id, raws);
  });
  if (split !== undefined && images.length === 0) {
    throw new Error(`${source}: no images in split ${describe(split)}; the file has ${[...splitsSeen].map(describe).join(', ') || 'no images'}`);
  }
  return { source, format: 'karpathy', images, captions };
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

/** Reads COCO caption annotations (`captions_*.json`). */
export function readCocoAnnotations(file: string): CaptionAnnotations {
  return parseCocoAnnotations(readJson(file), file);
}

/** Reads a Karpathy split file, optionally one split of it. */
export function readKarpathy(file: string, split?: string): CaptionAnnotations {
  return parseKarpathy(readJson(file), file, split);
}

/** Reads a COCO result file. */
export function readResults(file: string): CaptionResults {
  return parseResults(readJson(file), file);
}

/**
 * Reads either annotation format, recognised by its shape: `annotations` -> COCO,
 * images with `sentences` -> Karpathy. `split` selects a Karpathy split; a COCO file is
 * one split already, so there it is only a label.
 */
export function readAnnotations(file: string, split?: string): CaptionAnnotations {
  const json = readJson(file);
  if (isRecord(json) && Array.isArray(json.annotations)) return parseCocoAnnotations(json, file);
  if (isRecord(json) && Array.isArray(json.images)) return parseKarpathy(json, file, split);
  throw new Error(`${file}: neither COCO caption annotations ("images" and "annotations") nor a Karpathy split file ("images" with "sentences")`);
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
      `${results.source}: no caption for ${missing.length} of the ${annotations.images.length} images of ${annotations.source}${splitLabel}: ${listIds(missing)}; pass allowSubset to score only the images present`,
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
