/**
 * The scenes' ground truth as read back from a loaded dataset: the objects of an image
 * (shape, colour, size, box, hidden fraction), its occluders, and for each caption which
 * token positions name which object. This is what attention maps are scored against.
 *
 *   const truth = sceneAnnotations(dataset.images[0]);   // undefined for COCO images
 *   truth.objects[0].box;                                // [x, y, width, height] in pixels
 *   truth.mentions[2];                                   // mentions of caption 2
 */
import type { DatasetImage } from '../dataset';
import type { Mention } from './captions';

export interface SceneObjectAnnotation {
  shape: string;
  colour: string;
  size: string;
  /** [x, y, width, height] in pixels of the stored image, COCO style. */
  box: [number, number, number, number];
  /** Fraction hidden by occluders. */
  hidden: number;
  rgb?: [number, number, number];
}

export interface SceneAnnotations {
  width: number;
  height: number;
  objects: SceneObjectAnnotation[];
  occluders: { box: [number, number, number, number]; target: number; pattern?: string }[];
  /** For every caption of the image (same order), its mentions. */
  mentions: Mention[][];
  background?: { kind: string };
}

function isBox(value: unknown): value is [number, number, number, number] {
  return Array.isArray(value) && value.length === 4 && value.every((v) => typeof v === 'number' && Number.isFinite(v));
}

/**
 * The scene annotations of an image, or undefined when it has none (a COCO or Flickr
 * image). Malformed annotations are an error naming the image and the field.
 */
export function sceneAnnotations(image: DatasetImage): SceneAnnotations | undefined {
  const extra = image.extra;
  if (!extra || extra.objects === undefined) return undefined;
  const where = `image ${image.id} (${image.file})`;
  const fail = (field: string, message: string): never => {
    throw new Error(`${where}: field "${field}": ${message}`);
  };
  if (!Array.isArray(extra.objects)) fail('objects', 'must be a list');
  const objects = (extra.objects as unknown[]).map((o, i) => {
    const r = o as Record<string, unknown>;
    if (typeof r !== 'object' || r === null) fail(`objects[${i}]`, 'must be an object');
    for (const key of ['shape', 'colour', 'size'] as const) if (typeof r[key] !== 'string') fail(`objects[${i}].${key}`, 'must be a string');
    if (!isBox(r.box)) fail(`objects[${i}].box`, 'must be [x, y, width, height]');
    return { shape: r.shape as string, colour: r.colour as string, size: r.size as string, box: r.box as [number, number, number, number], hidden: typeof r.hidden === 'number' ? r.hidden : 0, ...(Array.isArray(r.rgb) ? { rgb: r.rgb as [number, number, number] } : {}) };
  });
  const occluders = Array.isArray(extra.occluders)
    ? (extra.occluders as Record<string, unknown>[]).map((o, i) => {
        if (!isBox(o?.box)) fail(`occluders[${i}].box`, 'must be [x, y, width, height]');
        return { box: o.box as [number, number, number, number], target: Number(o.target), ...(typeof o.pattern === 'string' ? { pattern: o.pattern } : {}) };
      })
    : [];
  const mentions = image.captions.map((caption, j) => {
    const list = caption.extra?.mentions;
    if (list === undefined) return [];
    if (!Array.isArray(list)) fail(`sentences[${j}].mentions`, 'must be a list');
    return (list as Record<string, unknown>[]).map((m, k) => {
      const object = m?.object;
      const tokens = m?.tokens;
      if (typeof object !== 'number' || !Number.isInteger(object) || object < 0 || object >= objects.length) {
        fail(`sentences[${j}].mentions[${k}].object`, `must index the ${objects.length} objects, got ${JSON.stringify(object)}`);
      }
      if (!Array.isArray(tokens) || !tokens.every((t) => Number.isInteger(t) && t >= 0 && t < caption.tokens.length)) {
        fail(`sentences[${j}].mentions[${k}].tokens`, `must be token positions below ${caption.tokens.length}, got ${JSON.stringify(tokens)}`);
      }
      return { object: object as number, tokens: tokens as number[] };
    });
  });
  const width = typeof extra.width === 'number' ? extra.width : 0;
  const height = typeof extra.height === 'number' ? extra.height : 0;
  const background = typeof extra.background === 'object' && extra.background !== null ? { kind: String((extra.background as { kind?: unknown }).kind) } : undefined;
  return { width, height, objects, occluders, mentions, ...(background ? { background } : {}) };
}
