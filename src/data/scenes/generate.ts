/**
 * The generated scenes dataset: the project's embedded default data, written in Karpathy
 * format so the COCO loader reads it unchanged.
 *
 *   DIR/dataset_scenes.json   Karpathy JSON; images carry `objects`, `background`,
 *                             `occluders`; sentences carry `mentions`
 *   DIR/images/scene_000000.png …
 *   DIR/manifest.json         parameters, generator version, fingerprints
 *
 *   const scenes = await ensureScenes('results/data/scenes-quick', SCENES_QUICK);
 *   const dataset = loadKarpathy(scenes.datasetFile, { imagesRoot: scenes.imagesRoot });
 *
 * Deterministic: each image is drawn from its own generator seeded by (seed, index), PNGs
 * are encoded by sharp with fixed options and no metadata, and the manifest holds no time,
 * so one seed gives byte-identical files. The manifest also records a SHA-256 of the raw
 * pixels, which does not depend on the PNG compressor.
 */
import { createHash } from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import sharp from 'sharp';

import { writeFileAtomic } from '../../common/atomic-write';
import { loadKarpathy } from '../karpathy';
import { createRng } from '../../common/random';
import { captionScene } from './captions';
import { renderScene, sampleScene, type Scene } from './layout';

/** Bumped whenever a change to the generator changes its output for a seed. */
export const SCENES_GENERATOR_VERSION = 1;

export interface ScenesParams {
  /** Number of images (10% val, 10% test, the rest train). */
  images: number;
  /** Image side in pixels. */
  size: number;
  seed: number;
  /** Probability that an occluder hides part of each object (0: none). */
  occlusion: number;
  /** Captions per image (default 5, as COCO). */
  captionsPerImage?: number;
}

/**
 * The quick profile's scenes: 1,000 images of 64 x 64 px (800 train, 100 val, 100 test).
 * 64 px keeps a small CNN trained from scratch on the wasm backend at about 0.5 s per batch
 * of 32 (FACTS.md §4) with objects still 13-26 px wide; 1,000 images give 4,000 training
 * captions over a ~50-word vocabulary, and cost about 2 minutes of frozen MobileNetV2
 * feature extraction (about 120 ms per image on wasm) where that encoder is used.
 */
export const SCENES_QUICK: Readonly<Required<ScenesParams>> = Object.freeze({ images: 1000, size: 64, seed: 1, occlusion: 0, captionsPerImage: 5 });

export const SCENES_DATASET_FILE = 'dataset_scenes.json';
export const SCENES_MANIFEST_FILE = 'manifest.json';
export const SCENES_IMAGES_FOLDER = 'images';

export interface ScenesManifest {
  generator: 'captioning-lab scenes';
  version: number;
  params: Required<ScenesParams>;
  /** Fingerprint of the dataset as loaded (datasetFingerprint): what goes into run ids. */
  fingerprint: string;
  /** SHA-256 of dataset_scenes.json. */
  datasetSha256: string;
  /** SHA-256 of every image's raw RGB pixels in order (independent of PNG compression). */
  pixelsSha256: string;
  splits: Record<string, number>;
  captions: number;
}

/** Where a scenes dataset lies, and whether this call generated it. */
export interface ScenesInfo {
  dir: string;
  datasetFile: string;
  /** The images root to load the dataset with (the folder itself: image paths are `images/…`). */
  imagesRoot: string;
  manifest: ScenesManifest;
  generated: boolean;
  seconds: number;
}

export interface GenerateOptions {
  /** Progress lines; default stderr. `null` for silence. */
  log?: ((line: string) => void) | null;
  /** A progress line every this many images (default: about every 10%, at least 100). */
  progressEvery?: number;
}

/** Validates and completes parameters, with errors naming the parameter. */
export function resolveScenesParams(params: Partial<ScenesParams> = {}): Required<ScenesParams> {
  const p = { ...SCENES_QUICK, ...params };
  const wholeAtLeast = (name: keyof ScenesParams, min: number) => {
    const v = p[name];
    if (!Number.isInteger(v) || v < min) throw new Error(`scenes: ${name} must be a whole number >= ${min}, got ${v}`);
  };
  wholeAtLeast('images', 1);
  wholeAtLeast('size', 32);
  wholeAtLeast('seed', 0);
  wholeAtLeast('captionsPerImage', 1);
  if (!(p.occlusion >= 0 && p.occlusion <= 1)) throw new Error(`scenes: occlusion must be a probability in [0, 1], got ${p.occlusion}`);
  if (p.captionsPerImage > 20) throw new Error(`scenes: captionsPerImage must be at most 20, got ${p.captionsPerImage}`);
  return { images: p.images, size: p.size, seed: p.seed, occlusion: p.occlusion, captionsPerImage: p.captionsPerImage };
}

/** Split of image i of n: the last 10% test, the 10% before val, at least one each from 3 images. */
export function sceneSplit(i: number, n: number): 'train' | 'val' | 'test' {
  const held = n >= 3 ? Math.max(1, Math.round(n * 0.1)) : 0;
  if (i >= n - held) return 'test';
  if (i >= n - 2 * held) return 'val';
  return 'train';
}

/** Box as COCO writes them, [x, y, width, height], rounded to 1/100 px. */
function cocoBox(b: { x0: number; y0: number; x1: number; y1: number }): number[] {
  const r = (v: number) => Math.round(v * 100) / 100;
  return [r(b.x0), r(b.y0), r(b.x1 - b.x0), r(b.y1 - b.y0)];
}

const round3 = (v: number) => Math.round(v * 1000) / 1000;
const rgb255 = (c: readonly number[]) => c.map((v) => Math.round(v * 255));

/** The Karpathy image record of scene i, with the scenes' extra fields. */
function imageRecord(i: number, n: number, scene: Scene, captions: ReturnType<typeof captionScene>, filename: string): Record<string, unknown> {
  const perImage = captions.length;
  return {
    filepath: SCENES_IMAGES_FOLDER,
    filename,
    imgid: i,
    split: sceneSplit(i, n),
    sentids: captions.map((_, j) => i * perImage + j),
    sentences: captions.map((c, j) => ({ tokens: c.tokens, raw: c.raw, imgid: i, sentid: i * perImage + j, template: c.template, mentions: c.mentions })),
    width: scene.size,
    height: scene.size,
    objects: scene.objects.map((o) => ({ shape: o.shape, colour: o.colour, size: o.size, box: cocoBox(o.bounds), rgb: rgb255(o.rgb), hidden: round3(o.hidden) })),
    background: { kind: scene.background.kind, rgb: rgb255(scene.background.base) },
    occluders: scene.occluders.map((o) => ({ box: cocoBox(o.bounds), target: o.target, pattern: o.pattern })),
  };
}

/** PNG options: fixed, so the bytes depend only on the pixels. */
const PNG_OPTIONS = { compressionLevel: 9, adaptiveFiltering: false, palette: false, progressive: false } as const;

/** Encodes 8-bit RGB pixels [H, W, 3] as PNG, deterministically (no metadata written). */
export function encodePng(pixels: Buffer, width: number, height: number): Promise<Buffer> {
  return sharp(pixels, { raw: { width, height, channels: 3 } }).png(PNG_OPTIONS).toBuffer();
}

/** Draws one scene and its captions: all randomness from (seed, index). */
export function generateScene(params: Required<ScenesParams>, index: number): { scene: Scene; captions: ReturnType<typeof captionScene>; pixels: Buffer } {
  const rng = createRng(`scenes:v${SCENES_GENERATOR_VERSION}:${params.seed}:${index}`);
  const scene = sampleScene(rng.fork('layout'), params.size, params.occlusion);
  const captions = captionScene(scene, rng.fork('captions'), params.captionsPerImage);
  const pixels = renderScene(scene, rng.fork('pixels'));
  return { scene, captions, pixels };
}

/**
 * Writes a scenes dataset into `dir` (created; it must not exist yet or be empty).
 * Returns the manifest, which it writes last.
 */
export async function generateScenes(dir: string, params: Partial<ScenesParams> = {}, options: GenerateOptions = {}): Promise<ScenesManifest> {
  const p = resolveScenesParams(params);
  const log = options.log === undefined ? (line: string) => process.stderr.write(line + '\n') : options.log;
  const every = options.progressEvery ?? Math.max(100, Math.ceil(p.images / 10));
  if (fs.existsSync(dir) && fs.readdirSync(dir).length > 0) throw new Error(`scenes: ${dir} exists and is not empty`);
  const imagesDir = path.join(dir, SCENES_IMAGES_FOLDER);
  await fs.promises.mkdir(imagesDir, { recursive: true });

  const started = Date.now();
  const digits = Math.max(6, String(p.images - 1).length);
  const records: Record<string, unknown>[] = new Array(p.images);
  const pixelHashes: string[] = new Array(p.images);
  const splits: Record<string, number> = { train: 0, val: 0, test: 0 };
  let done = 0;
  let next = 0;
  // Drawing is synchronous JavaScript; PNG encoding and writing run on libuv's threads,
  // a few images in flight at a time.
  const worker = async () => {
    while (next < p.images) {
      const i = next++;
      const { scene, captions, pixels } = generateScene(p, i);
      const filename = `scene_${String(i).padStart(digits, '0')}.png`;
      records[i] = imageRecord(i, p.images, scene, captions, filename);
      pixelHashes[i] = createHash('sha256').update(pixels).digest('hex');
      await fs.promises.writeFile(path.join(imagesDir, filename), await encodePng(pixels, p.size, p.size));
      splits[sceneSplit(i, p.images)] += 1;
      done += 1;
      if (log && (done % every === 0 || done === p.images)) {
        log(`scenes: ${done}/${p.images} images (${((Date.now() - started) / 1000).toFixed(1)} s)`);
      }
    }
  };
  await Promise.all(Array.from({ length: 4 }, worker));

  const json = JSON.stringify({ dataset: 'scenes', generator: { name: 'captioning-lab scenes', version: SCENES_GENERATOR_VERSION, params: p }, images: records });
  const datasetFile = path.join(dir, SCENES_DATASET_FILE);
  await writeFileAtomic(datasetFile, json);
  // Load it back with the Karpathy loader: checks the output and gives the run-id fingerprint.
  const dataset = loadKarpathy(datasetFile, { imagesRoot: dir });
  const manifest: ScenesManifest = {
    generator: 'captioning-lab scenes',
    version: SCENES_GENERATOR_VERSION,
    params: p,
    fingerprint: dataset.fingerprint,
    datasetSha256: createHash('sha256').update(json).digest('hex'),
    pixelsSha256: createHash('sha256').update(pixelHashes.join('\n')).digest('hex'),
    splits,
    captions: dataset.report.captionsKept,
  };
  await writeFileAtomic(path.join(dir, SCENES_MANIFEST_FILE), JSON.stringify(manifest, null, 2) + '\n');
  return manifest;
}

/** The manifest of a scenes folder, or undefined when there is none (or it is unreadable). */
export function readScenesManifest(dir: string): ScenesManifest | undefined {
  try {
    const manifest = JSON.parse(fs.readFileSync(path.join(dir, SCENES_MANIFEST_FILE), 'utf8')) as ScenesManifest;
    return manifest.generator === 'captioning-lab scenes' ? manifest : undefined;
  } catch {
    return undefined;
  }
}

function sameParams(a: Required<ScenesParams>, b: Required<ScenesParams>): boolean {
  return (Object.keys(a) as (keyof ScenesParams)[]).every((k) => a[k] === b[k]) && Object.keys(a).length === Object.keys(b).length;
}

/**
 * The scenes dataset in `dir` with these parameters: reused when `dir` holds one made with
 * the same parameters and generator version, else generated. Generation goes into a
 * temporary sibling folder renamed into place at the end, so an interrupted run never
 * leaves a half-written dataset behind; a folder that is not a scenes dataset is never
 * replaced.
 */
export async function ensureScenes(dir: string, params: Partial<ScenesParams> = SCENES_QUICK, options: GenerateOptions & { force?: boolean } = {}): Promise<ScenesInfo> {
  const p = resolveScenesParams(params);
  const log = options.log === undefined ? (line: string) => process.stderr.write(line + '\n') : options.log;
  const started = Date.now();
  const info = (manifest: ScenesManifest, generated: boolean): ScenesInfo => ({
    dir,
    datasetFile: path.join(dir, SCENES_DATASET_FILE),
    imagesRoot: dir,
    manifest,
    generated,
    seconds: (Date.now() - started) / 1000,
  });

  const existing = fs.existsSync(dir) ? readScenesManifest(dir) : undefined;
  if (existing && !options.force && existing.version === SCENES_GENERATOR_VERSION && sameParams(existing.params, p) && fs.existsSync(path.join(dir, SCENES_DATASET_FILE))) {
    return info(existing, false);
  }
  if (fs.existsSync(dir) && !existing && fs.readdirSync(dir).length > 0) {
    throw new Error(`scenes: ${dir} exists and is not a scenes dataset (no ${SCENES_MANIFEST_FILE}); remove it or choose another folder`);
  }
  if (log) {
    const why = existing ? `it was generated with other parameters (${JSON.stringify(existing.params)})` : 'it does not exist';
    log(`scenes: generating ${p.images} images of ${p.size} px (seed ${p.seed}, occlusion ${p.occlusion}) in ${dir}: ${options.force ? 'forced' : why}`);
  }
  const parent = path.dirname(path.resolve(dir));
  await fs.promises.mkdir(parent, { recursive: true });
  const temp = path.join(parent, `.${path.basename(dir)}.${process.pid}.${Date.now()}.tmp`);
  try {
    const manifest = await generateScenes(temp, p, options);
    if (fs.existsSync(dir)) {
      const old = `${temp}.old`;
      await fs.promises.rename(dir, old);
      await fs.promises.rename(temp, dir);
      await fs.promises.rm(old, { recursive: true, force: true });
    } else {
      await fs.promises.rename(temp, dir);
    }
    return info(manifest, true);
  } catch (error) {
    await fs.promises.rm(temp, { recursive: true, force: true });
    throw error;
  }
}
