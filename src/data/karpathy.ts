/**
 * Loader for Karpathy's split files (`dataset_coco.json`, `dataset_flickr8k.json`,
 * `dataset_flickr30k.json`) and for our generated `dataset_scenes.json`, which has the same
 * shape plus extra fields:
 *
 *   { "dataset": "coco",
 *     "images": [ { "filepath": "val2014",            // COCO only: folder under the root
 *                   "filename": "COCO_val2014_000000391895.jpg",
 *                   "imgid": 0, "split": "test",       // train | restval | val | test
 *                   "cocoid": 391895,                  // COCO only
 *                   "sentids": [0, 1, 2, 3, 4],
 *                   "sentences": [ { "tokens": ["a", "man", …], "raw": "A man …",
 *                                    "imgid": 0, "sentid": 0 }, … ] }, … ] }
 *
 * Every record is validated; a problem names the file, the record and the field. Strict
 * mode (default) fails with all problems listed; lenient mode skips bad images and captions
 * and reports each with its reason. `restval` joins train by default.
 */
import * as path from 'path';

import {
  type Caption,
  type CaptionDataset,
  checkImagesRoot,
  datasetFingerprint,
  type DatasetImage,
  FileIndex,
  jsonType,
  type LoadMode,
  type LoadReport,
  isId,
  isRecord,
  ProblemLog,
  quote,
  readJsonFile,
  type Split,
  structuralError,
  unsafeImagePath,
} from './dataset';
import type { RestvalPolicy } from '../config';

/** Options shared by the dataset loaders. */
export interface LoadOptions {
  /** Folder the image paths are relative to (COCO: the folder holding train2014/ and val2014/). */
  imagesRoot: string;
  /** 'strict' (default): any bad record fails the load; 'lenient': skipped and reported. */
  mode?: LoadMode;
  /** Where `restval` images go; default 'train' (as the reference code did). */
  restval?: RestvalPolicy;
  /** Check that every image file exists under the root (default true). */
  checkFiles?: boolean;
}

/** The split names a Karpathy file may use. */
export const KARPATHY_SPLITS = ['train', 'restval', 'val', 'test'] as const;

const IMAGE_FIELDS = new Set(['filepath', 'filename', 'imgid', 'split', 'sentences', 'sentids', 'cocoid']);
const SENTENCE_FIELDS = new Set(['tokens', 'raw', 'imgid', 'sentid']);

/** Fields of `record` other than `known`, or undefined when there are none. */
export function extraFields(record: Record<string, unknown>, known: Set<string>): Record<string, unknown> | undefined {
  let extra: Record<string, unknown> | undefined;
  for (const key of Object.keys(record)) {
    if (!known.has(key)) (extra ??= {})[key] = record[key];
  }
  return extra;
}

/** Maps a Karpathy split to ours under the restval policy; undefined when dropped. */
function mapSplit(split: string, restval: RestvalPolicy): Split | undefined {
  if (split === 'restval') return restval === 'drop' ? undefined : restval;
  return split as Split;
}

/** The dataset's name: its `dataset` field, else `dataset_<name>.json`, else the file name. */
function datasetName(file: string, json: Record<string, unknown>): string {
  if (typeof json.dataset === 'string' && json.dataset.trim() !== '') return json.dataset;
  const base = path.basename(file, '.json');
  return base.startsWith('dataset_') ? base.slice('dataset_'.length) : base;
}

/** Loads and validates a Karpathy-format split file. */
export function loadKarpathy(file: string, options: LoadOptions): CaptionDataset {
  return karpathyFromJson(file, readJsonFile(file), options);
}

/** Validates the parsed content of a Karpathy-format file (`file` names it in messages). */
export function karpathyFromJson(file: string, json: unknown, options: LoadOptions): CaptionDataset {
  const mode = options.mode ?? 'strict';
  const restval = options.restval ?? 'train';
  const checkFiles = options.checkFiles ?? true;
  if (!isRecord(json)) throw structuralError(file, `expected a JSON object with an "images" list, found ${jsonType(json)}`);
  if (!Array.isArray(json.images)) {
    throw structuralError(file, `field "images" must be a list of image records, found ${jsonType(json.images)}`);
  }
  if (checkFiles) checkImagesRoot(file, options.imagesRoot);

  const log = new ProblemLog(file, mode);
  const files = checkFiles ? new FileIndex(options.imagesRoot) : undefined;
  const imgids = new Map<number, number>(); // imgid -> index of its record
  const cocoids = new Map<number, number>();
  const paths = new Map<string, number>();
  const sentids = new Map<number, number>();
  const sourceSplits: Record<string, number> = {};
  const images: DatasetImage[] = [];
  let captionsRead = 0;

  json.images.forEach((record: unknown, i: number) => {
    let where = `images[${i}]`;
    if (!isRecord(record)) {
      log.add(where, undefined, `expected an image record (object), found ${jsonType(record)}`, 'skipped image');
      return;
    }
    const sentences = Array.isArray(record.sentences) ? record.sentences : [];
    captionsRead += sentences.length;
    if (typeof record.split === 'string') sourceSplits[record.split] = (sourceSplits[record.split] ?? 0) + 1;
    const bad = (field: string | undefined, message: string) => log.add(where, field, message, 'skipped image');

    // Identity: imgid, file, cocoid.
    const imgid = record.imgid;
    const filename = record.filename;
    const rawFilepath = record.filepath;
    where = `images[${i}] (imgid ${quote(imgid)}${typeof filename === 'string' ? `, ${quote(filename)}` : ''})`;
    if (!isId(imgid)) return bad('imgid', `must be a whole number >= 0, found ${jsonType(imgid)} ${quote(imgid)}`);
    if (imgids.has(imgid)) return bad('imgid', `duplicate imgid ${imgid} (first used by images[${imgids.get(imgid)}])`);
    imgids.set(imgid, i);
    if (typeof filename !== 'string') return bad('filename', `must be a string, found ${jsonType(filename)} ${quote(filename)}`);
    if (rawFilepath !== undefined && typeof rawFilepath !== 'string') {
      return bad('filepath', `must be a string when present, found ${jsonType(rawFilepath)} ${quote(rawFilepath)}`);
    }
    const filepath = typeof rawFilepath === 'string' ? rawFilepath : '';
    const relative = (filepath ? path.posix.join(filepath.replace(/\\/g, '/'), filename) : filename).replace(/\\/g, '/');
    const unsafe = unsafeImagePath(relative);
    if (unsafe) return bad(filepath ? 'filepath/filename' : 'filename', `image path ${unsafe}`);
    if (paths.has(relative)) return bad('filename', `duplicate image file ${quote(relative)} (first used by images[${paths.get(relative)}])`);
    paths.set(relative, i);
    const cocoid = record.cocoid;
    if (cocoid !== undefined) {
      if (!isId(cocoid)) return bad('cocoid', `must be a whole number >= 0 when present, found ${jsonType(cocoid)} ${quote(cocoid)}`);
      if (cocoids.has(cocoid)) return bad('cocoid', `duplicate cocoid ${cocoid} (first used by images[${cocoids.get(cocoid)}])`);
      cocoids.set(cocoid, i);
    }

    // Split.
    const sourceSplit = record.split;
    if (typeof sourceSplit !== 'string' || !(KARPATHY_SPLITS as readonly string[]).includes(sourceSplit)) {
      return bad('split', `must be one of ${KARPATHY_SPLITS.join(', ')}, found ${quote(sourceSplit)}`);
    }

    // The image file.
    if (files && !files.has(relative)) {
      return bad(filepath ? 'filepath/filename' : 'filename', `image file not found: ${path.join(options.imagesRoot, relative)}`);
    }

    // Captions.
    if (!Array.isArray(record.sentences)) {
      return bad('sentences', `must be a list of sentence records, found ${jsonType(record.sentences)}`);
    }
    const captions: Caption[] = [];
    record.sentences.forEach((sentence: unknown, j: number) => {
      const caption = readSentence(sentence, j, imgid, sentids, i, (field, message) =>
        log.add(where, field, message, 'skipped caption'),
      );
      if (caption) captions.push(caption);
    });
    if (record.sentids !== undefined) {
      const listed = record.sentids;
      const read = record.sentences.map((s: unknown) => (isRecord(s) ? s.sentid : undefined));
      if (!Array.isArray(listed) || listed.length !== read.length || listed.some((id, k) => id !== read[k])) {
        return bad('sentids', `${quote(listed)} does not match the sentences' sentid values ${quote(read)}`);
      }
    }
    if (captions.length === 0) {
      return bad('sentences', record.sentences.length === 0 ? 'the image has no captions' : 'the image has no usable captions');
    }

    const split = mapSplit(sourceSplit, restval);
    if (split === undefined) {
      log.add(where, 'split', `restval image dropped by the restval policy 'drop'`, 'dropped');
      return;
    }
    const extra = extraFields(record, IMAGE_FIELDS);
    images.push({
      id: imgid,
      ...(cocoid !== undefined ? { cocoId: cocoid as number } : {}),
      file: relative,
      split,
      sourceSplit,
      captions,
      ...(extra ? { extra } : {}),
    });
  });
  if (json.images.length === 0) throw structuralError(file, 'field "images" is an empty list');
  log.finish();

  const report: LoadReport = {
    file,
    format: 'karpathy',
    mode,
    imagesRead: json.images.length,
    captionsRead,
    imagesKept: images.length,
    captionsKept: images.reduce((n, image) => n + image.captions.length, 0),
    skipped: log.problems,
    sourceSplits,
  };
  return {
    name: datasetName(file, json),
    file,
    format: 'karpathy',
    imagesRoot: options.imagesRoot,
    images,
    report,
    fingerprint: datasetFingerprint(images),
  };
}

/** Validates one sentence record; reports and returns undefined when it is unusable. */
function readSentence(
  sentence: unknown,
  j: number,
  imgid: number,
  sentids: Map<number, number>,
  imageIndex: number,
  bad: (field: string, message: string) => void,
): Caption | undefined {
  const field = `sentences[${j}]`;
  if (!isRecord(sentence)) {
    bad(field, `expected a sentence record (object), found ${jsonType(sentence)}`);
    return undefined;
  }
  const { sentid, raw, tokens } = sentence;
  if (!isId(sentid)) {
    bad(`${field}.sentid`, `must be a whole number >= 0, found ${jsonType(sentid)} ${quote(sentid)}`);
    return undefined;
  }
  if (sentids.has(sentid)) {
    bad(`${field}.sentid`, `duplicate sentid ${sentid} (first used in images[${sentids.get(sentid)}])`);
    return undefined;
  }
  sentids.set(sentid, imageIndex);
  if (sentence.imgid !== undefined && sentence.imgid !== imgid) {
    bad(`${field}.imgid`, `is ${quote(sentence.imgid)} but the sentence belongs to imgid ${imgid}`);
    return undefined;
  }
  if (typeof raw !== 'string') {
    bad(`${field}.raw`, `must be a string, found ${jsonType(raw)} ${quote(raw)}`);
    return undefined;
  }
  if (!Array.isArray(tokens)) {
    bad(`${field}.tokens`, `must be a list of strings, found ${jsonType(tokens)} ${quote(tokens)}`);
    return undefined;
  }
  const wrong = tokens.findIndex((t) => typeof t !== 'string');
  if (wrong >= 0) {
    bad(`${field}.tokens[${wrong}]`, `must be a string, found ${jsonType(tokens[wrong])} ${quote(tokens[wrong])}`);
    return undefined;
  }
  const words = (tokens as string[]).map((t) => t.trim().toLowerCase()).filter((t) => t.length > 0);
  if (words.length === 0 || raw.trim() === '') {
    bad(`${field}.${words.length === 0 ? 'tokens' : 'raw'}`, `empty caption (raw ${quote(raw)}, tokens ${quote(tokens)})`);
    return undefined;
  }
  const extra = extraFields(sentence, SENTENCE_FIELDS);
  return { id: sentid, raw, tokens: words, ...(extra ? { extra } : {}) };
}
