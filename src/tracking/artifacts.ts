/**
 * The evaluation files of a run: generated captions in the COCO result format
 * (`captions-<split>.json`: `[{ "image_id": 42, "caption": "a red circle" }]`) and attention
 * maps (`attention-<split>.json` index + `attention-<split>.bin`, little-endian float32).
 *
 * The attention index lists, per decoded caption, its image id, its words, the shape
 * [T, H, W] and where its T*H*W weights start in the binary file (in floats). Readers check
 * the binary file's size against the index: a truncated file is a DamagedRunError.
 */
import * as fs from 'fs';
import * as path from 'path';

import { writeFileAtomic } from '../common/atomic-write';
import { DamagedRunError } from './errors';
import { readJsonIfExists, writeJson } from './files';
import type { AttentionMap, CaptionResult } from './job';
import { attentionFiles, captionsFile } from './paths';

interface AttentionIndex {
  schema: 'captioning-lab/attention@1';
  split: string;
  dtype: 'float32';
  byteOrder: 'little-endian';
  data: string;
  entries: { image_id: number | string; words: string[]; shape: [number, number, number]; offset: number }[];
}

/** Writes captions-<split>.json; returns its file name. */
export async function writeCaptions(dir: string, split: string, captions: readonly CaptionResult[]): Promise<string> {
  const seen = new Set<string>();
  captions.forEach((c, i) => {
    if ((typeof c.image_id !== 'number' && typeof c.image_id !== 'string') || typeof c.caption !== 'string') {
      throw new Error(`captions for ${split}: entry ${i} should be { image_id: number | string, caption: string }, got ${JSON.stringify(c).slice(0, 80)}`);
    }
    const key = JSON.stringify(c.image_id);
    if (seen.has(key)) throw new Error(`captions for ${split}: image_id ${key} appears twice (COCO result files hold one caption per image)`);
    seen.add(key);
  });
  const name = captionsFile(split);
  await writeJson(path.join(dir, name), captions.map((c) => ({ image_id: c.image_id, caption: c.caption })));
  return name;
}

/** Reads captions-<split>.json; undefined when the run has none for that split. */
export function readCaptions(dir: string, split: string): CaptionResult[] | undefined {
  const file = path.join(dir, captionsFile(split));
  const value = readJsonIfExists<CaptionResult[]>(file);
  if (value === undefined) return undefined;
  if (!Array.isArray(value)) throw new DamagedRunError(file, 'should be a COCO result list [{ image_id, caption }]');
  return value;
}

/** Writes attention-<split>.bin and its index; returns the two file names. */
export async function writeAttention(dir: string, split: string, maps: readonly AttentionMap[]): Promise<string[]> {
  const names = attentionFiles(split);
  let total = 0;
  const entries = maps.map((m, i) => {
    const [T, H, W] = m.shape;
    // T = 0 is an empty caption (the model said <end> first): scored 0, kept with no maps.
    if (!(Number.isInteger(T) && T >= 0 && [H, W].every((n) => Number.isInteger(n) && n > 0))) {
      throw new Error(`attention for ${split}, entry ${i}: shape [${m.shape}] should be [T, H, W] with T >= 0 words and a positive grid H x W`);
    }
    if (m.alphas.length !== T * H * W) throw new Error(`attention for ${split}, entry ${i}: ${m.alphas.length} weights for shape [${T}, ${H}, ${W}] (expected ${T * H * W})`);
    if (m.words.length !== T) throw new Error(`attention for ${split}, entry ${i}: ${m.words.length} words for ${T} attention steps`);
    const entry = { image_id: m.imageId, words: m.words, shape: [T, H, W] as [number, number, number], offset: total };
    total += T * H * W;
    return entry;
  });
  const data = new Float32Array(total);
  maps.forEach((m, i) => data.set(m.alphas, entries[i].offset));
  const bytes = Buffer.alloc(total * 4);
  for (let i = 0; i < total; i++) bytes.writeFloatLE(data[i], i * 4);
  await writeFileAtomic(path.join(dir, names.data), bytes);
  const index: AttentionIndex = { schema: 'captioning-lab/attention@1', split, dtype: 'float32', byteOrder: 'little-endian', data: names.data, entries };
  await writeJson(path.join(dir, names.index), index);
  return [names.index, names.data];
}

/** Reads the attention maps of a split; undefined when the run has none. */
export function readAttention(dir: string, split: string): AttentionMap[] | undefined {
  const names = attentionFiles(split);
  const indexFile = path.join(dir, names.index);
  const index = readJsonIfExists<AttentionIndex>(indexFile);
  if (index === undefined) return undefined;
  if (!Array.isArray(index.entries)) throw new DamagedRunError(indexFile, 'should hold an entries list');
  const dataFile = path.join(dir, names.data);
  let bytes: Buffer;
  try {
    bytes = fs.readFileSync(dataFile);
  } catch {
    throw new DamagedRunError(dataFile, `referenced by ${indexFile} but missing`);
  }
  const floats = index.entries.reduce((n, e) => n + e.shape[0] * e.shape[1] * e.shape[2], 0);
  if (bytes.length !== floats * 4) throw new DamagedRunError(dataFile, `has ${bytes.length} bytes, ${indexFile} needs ${floats * 4}`);
  return index.entries.map((e) => {
    const n = e.shape[0] * e.shape[1] * e.shape[2];
    const alphas = new Float32Array(n);
    for (let i = 0; i < n; i++) alphas[i] = bytes.readFloatLE((e.offset + i) * 4);
    return { imageId: e.image_id, words: e.words, shape: e.shape, alphas };
  });
}

/** The [H][W] grid of word `t` of an attention map. */
export function attentionGrid(map: AttentionMap, t: number): number[][] {
  const [T, H, W] = map.shape;
  if (!(Number.isInteger(t) && t >= 0 && t < T)) throw new Error(`word index ${t} is outside 0..${T - 1}`);
  return Array.from({ length: H }, (_, y) => Array.from({ length: W }, (_, x) => Number(map.alphas[t * H * W + y * W + x])));
}
