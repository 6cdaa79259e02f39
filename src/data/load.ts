/**
 * One entry point for any caption dataset file: Karpathy split files (COCO, Flickr8k,
 * Flickr30k, scenes) and raw COCO caption annotations, told apart by their content
 * (Karpathy files have `images[].sentences`, COCO annotation files an `annotations` list).
 */
import { cocoCaptionsFromJson, type CocoLoadOptions } from './coco-captions';
import { type CaptionDataset, type DatasetFormat, jsonType, readJsonFile, structuralError } from './dataset';
import { karpathyFromJson } from './karpathy';

/** Which loader parsed content needs. */
export function detectFormat(file: string, json: unknown): DatasetFormat {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    throw structuralError(file, `expected a JSON object, found ${jsonType(json)}`);
  }
  const record = json as Record<string, unknown>;
  if (Array.isArray(record.annotations)) return 'coco-captions';
  if (Array.isArray(record.images)) return 'karpathy';
  throw structuralError(
    file,
    'neither a Karpathy split file (an "images" list with "sentences") nor COCO caption annotations ("images" and "annotations")',
  );
}

/** Loads a dataset file of either format. */
export function loadDataset(file: string, options: CocoLoadOptions): CaptionDataset {
  const json = readJsonFile(file);
  return detectFormat(file, json) === 'coco-captions'
    ? cocoCaptionsFromJson(file, json, options)
    : karpathyFromJson(file, json, options);
}
