/**
 * Loader for raw MS COCO caption annotations (`captions_train2014.json`,
 * `captions_val2014.json`):
 *
 *   { "images": [ { "id": 391895, "file_name": "COCO_val2014_000000391895.jpg", … }, … ],
 *     "annotations": [ { "id": 770337, "image_id": 391895, "caption": "A man …" }, … ] }
 *
 * All images of one file get one split (given, or read from the file name). Captions are
 * tokenized with `vocabularyTokens`. Validation, modes and the skip report are those of the
 * Karpathy loader; annotations are joined to images through a Map (linear time at COCO's
 * 414k training captions).
 */
import * as path from 'path';

import {
  type CaptionDataset,
  checkImagesRoot,
  datasetFingerprint,
  type DatasetImage,
  FileIndex,
  jsonType,
  isId,
  isRecord,
  ProblemLog,
  quote,
  readJsonFile,
  type Split,
  SPLITS,
  structuralError,
  unsafeImagePath,
} from './dataset';
import { extraFields, type LoadOptions } from './karpathy';
import { vocabularyTokens } from './tokenize';

export interface CocoLoadOptions extends LoadOptions {
  /** Split of every image in the file; default: `train`, `val` or `test` found in the file name. */
  split?: Split;
}

const IMAGE_FIELDS = new Set(['id', 'file_name']);

/** The split a COCO annotation file's name implies (`captions_val2014.json` -> val). */
export function splitFromFileName(file: string): Split | undefined {
  const base = path.basename(file).toLowerCase();
  return SPLITS.find((split) => base.includes(split));
}

/** Loads and validates a raw COCO caption annotation file. */
export function loadCocoCaptions(file: string, options: CocoLoadOptions): CaptionDataset {
  return cocoCaptionsFromJson(file, readJsonFile(file), options);
}

/** Validates the parsed content of a COCO caption annotation file (`file` names it in messages). */
export function cocoCaptionsFromJson(file: string, json: unknown, options: CocoLoadOptions): CaptionDataset {
  const mode = options.mode ?? 'strict';
  const checkFiles = options.checkFiles ?? true;
  const split = options.split ?? splitFromFileName(file);
  if (!split) {
    throw structuralError(file, `cannot tell the split from the file name; pass split (one of ${SPLITS.join(', ')})`);
  }
  if (!isRecord(json)) throw structuralError(file, `expected a JSON object with "images" and "annotations", found ${jsonType(json)}`);
  for (const field of ['images', 'annotations'] as const) {
    if (!Array.isArray(json[field])) throw structuralError(file, `field "${field}" must be a list, found ${jsonType(json[field])}`);
  }
  if (checkFiles) checkImagesRoot(file, options.imagesRoot);
  const imageRecords = json.images as unknown[];
  const annotationRecords = json.annotations as unknown[];

  const log = new ProblemLog(file, mode);
  const files = checkFiles ? new FileIndex(options.imagesRoot) : undefined;
  const byId = new Map<number, { image: DatasetImage; index: number }>();
  const fileNames = new Map<string, number>();
  const rejectedIds = new Set<number>();

  imageRecords.forEach((record, i) => {
    let where = `images[${i}]`;
    if (!isRecord(record)) return log.add(where, undefined, `expected an image record (object), found ${jsonType(record)}`, 'skipped image');
    const { id, file_name: fileName } = record;
    where = `images[${i}] (id ${quote(id)}${typeof fileName === 'string' ? `, ${quote(fileName)}` : ''})`;
    const bad = (field: string, message: string) => {
      if (isId(id) && !byId.has(id)) rejectedIds.add(id);
      log.add(where, field, message, 'skipped image');
    };
    if (!isId(id)) return bad('id', `must be a whole number >= 0, found ${jsonType(id)} ${quote(id)}`);
    if (byId.has(id)) return bad('id', `duplicate image id ${id} (first used by images[${byId.get(id)!.index}])`);
    if (typeof fileName !== 'string') return bad('file_name', `must be a string, found ${jsonType(fileName)} ${quote(fileName)}`);
    const relative = fileName.replace(/\\/g, '/');
    const unsafe = unsafeImagePath(relative);
    if (unsafe) return bad('file_name', `image path ${unsafe}`);
    if (fileNames.has(relative)) return bad('file_name', `duplicate image file ${quote(relative)} (first used by images[${fileNames.get(relative)}])`);
    fileNames.set(relative, i);
    if (files && !files.has(relative)) return bad('file_name', `image file not found: ${path.join(options.imagesRoot, relative)}`);
    const extra = extraFields(record, IMAGE_FIELDS);
    byId.set(id, {
      index: i,
      image: { id, cocoId: id, file: relative, split, sourceSplit: split, captions: [], ...(extra ? { extra } : {}) },
    });
  });

  const annotationIds = new Map<number, number>();
  annotationRecords.forEach((record, k) => {
    let where = `annotations[${k}]`;
    const bad = (field: string | undefined, message: string) => log.add(where, field, message, 'skipped annotation');
    if (!isRecord(record)) return bad(undefined, `expected an annotation record (object), found ${jsonType(record)}`);
    const { id, image_id: imageId, caption } = record;
    where = `annotations[${k}] (id ${quote(id)}, image_id ${quote(imageId)})`;
    if (!isId(id)) return bad('id', `must be a whole number >= 0, found ${jsonType(id)} ${quote(id)}`);
    if (annotationIds.has(id)) return bad('id', `duplicate annotation id ${id} (first used by annotations[${annotationIds.get(id)}])`);
    annotationIds.set(id, k);
    if (!isId(imageId)) return bad('image_id', `must be a whole number >= 0, found ${jsonType(imageId)} ${quote(imageId)}`);
    const target = byId.get(imageId);
    if (!target) {
      // An annotation of an image rejected above is not a second problem.
      if (rejectedIds.has(imageId)) return;
      return bad('image_id', `no image with id ${imageId} in "images"`);
    }
    if (typeof caption !== 'string') return bad('caption', `must be a string, found ${jsonType(caption)} ${quote(caption)}`);
    const tokens = vocabularyTokens(caption);
    if (tokens.length === 0) return bad('caption', `empty caption ${quote(caption)}`);
    target.image.captions.push({ id, raw: caption, tokens });
  });

  const images: DatasetImage[] = [];
  for (const { image, index } of byId.values()) {
    if (image.captions.length === 0) {
      log.add(`images[${index}] (id ${image.id}, ${quote(image.file)})`, undefined, 'the image has no captions in "annotations"', 'skipped image');
      continue;
    }
    images.push(image);
  }
  if (imageRecords.length === 0) throw structuralError(file, 'field "images" is an empty list');
  log.finish();

  const captionsKept = images.reduce((n, image) => n + image.captions.length, 0);
  return {
    name: path.basename(file).startsWith('captions_') ? 'coco' : path.basename(file, '.json'),
    file,
    format: 'coco-captions',
    imagesRoot: options.imagesRoot,
    images,
    report: {
      file,
      format: 'coco-captions',
      mode,
      imagesRead: imageRecords.length,
      captionsRead: annotationRecords.length,
      imagesKept: images.length,
      captionsKept,
      skipped: log.problems,
      sourceSplits: { [split]: imageRecords.length },
    },
    fingerprint: datasetFingerprint(images),
  };
}
