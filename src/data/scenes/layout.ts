/**
 * Scenes: what is in one generated image. One to three objects (six shapes, six colours,
 * two sizes), each shape at most once per image so that "the square" is never ambiguous;
 * a textured background (noise, stripes, checks or a gradient); optional grey patterned
 * occluders that hide part of an object; pixel noise over everything.
 *
 * The spatial relations captions may state are decided here, from the boxes, with a
 * margin so that every stated relation is plainly visible:
 *   a left of b   a's right edge is left of b's left edge by at least RELATION_MARGIN x size
 *   a above b     likewise for a's bottom and b's top
 *   a next to b   a left or right of b, their vertical extents overlapping by half the
 *                 smaller height, the gap under a quarter of the image
 *   a between b, c  a right of one and left of the other (or below one, above the other)
 */
import type { Rng } from '../../common/random';
import { type Bounds, hiddenFraction, insideBounds, insideShape, type PlacedShape, Raster, type Rgb, type Shape, SHAPES, shapeBounds } from './raster';

export const COLOURS = ['red', 'green', 'blue', 'yellow', 'purple', 'orange'] as const;
export type Colour = (typeof COLOURS)[number];
export const SIZES = ['large', 'small'] as const;
export type Size = (typeof SIZES)[number];
export const BACKGROUNDS = ['noise', 'stripes', 'checks', 'gradient'] as const;
export type BackgroundKind = (typeof BACKGROUNDS)[number];

/** sRGB values (0-1) of the colours before a small per-object jitter. */
export const COLOUR_VALUES: Record<Colour, Rgb> = {
  red: [0.86, 0.13, 0.13],
  green: [0.13, 0.62, 0.18],
  blue: [0.14, 0.3, 0.86],
  yellow: [0.96, 0.86, 0.12],
  purple: [0.56, 0.18, 0.7],
  orange: [0.98, 0.52, 0.06],
};

/** Scale r of a shape (about half its width) as a fraction of the image side. */
const SIZE_SCALE: Record<Size, number> = { large: 0.19, small: 0.11 };
/** Least gap between two objects' boxes (fraction of the side), on at least one axis. */
const OBJECT_GAP = 0.06;
/** Least distance of a box from the image border (fraction of the side). */
const BORDER_MARGIN = 0.03;
/** Least separation for a stated relation (fraction of the side). */
export const RELATION_MARGIN = 0.02;
/** An occluder may hide at most this fraction of any object. */
const MAX_HIDDEN = 0.7;

export interface SceneObject {
  shape: Shape;
  colour: Colour;
  size: Size;
  placed: PlacedShape;
  /** The colour actually drawn (jittered), 0-1. */
  rgb: Rgb;
  bounds: Bounds;
  /** Fraction of the object hidden by occluders (0 when none). */
  hidden: number;
}

export interface Background {
  kind: BackgroundKind;
  base: Rgb;
  second: Rgb;
  /** Direction (unit vector) of stripes and gradients. */
  direction: readonly [number, number];
  /** Stripe period or check cell in pixels. */
  period: number;
}

export interface Occluder {
  bounds: Bounds;
  /** The object it was placed to hide part of. */
  target: number;
  shade: number;
  pattern: 'plain' | 'hatch' | 'grid';
}

export interface Scene {
  size: number;
  objects: SceneObject[];
  background: Background;
  occluders: Occluder[];
}

/** Directions of stripes and gradients: 0, 45, 90 and 135 degrees (written out: no sin/cos). */
const DIRECTIONS: readonly (readonly [number, number])[] = [
  [1, 0],
  [0.707107, 0.707107],
  [0, 1],
  [-0.707107, 0.707107],
];

function clamp01(v: number): number {
  return v < 0 ? 0 : v > 1 ? 1 : v;
}

function jitter(rgb: Rgb, rng: Rng, amount: number): Rgb {
  return [clamp01(rgb[0] + rng.uniform(-amount, amount)), clamp01(rgb[1] + rng.uniform(-amount, amount)), clamp01(rgb[2] + rng.uniform(-amount, amount))];
}

function sampleBackground(rng: Rng, size: number): Background {
  const kind = rng.pick(BACKGROUNDS);
  const level = rng.uniform(0.45, 0.85);
  const base = jitter([level, level, level], rng, 0.06);
  const contrast = (kind === 'gradient' ? 0.22 : 0.12) * (level > 0.65 ? -1 : 1);
  const second: Rgb = [clamp01(base[0] + contrast), clamp01(base[1] + contrast), clamp01(base[2] + contrast)];
  const scale = size / 64;
  const period = kind === 'checks' ? rng.uniform(4, 10) * scale : rng.uniform(4, 9) * scale;
  return { kind, base, second, direction: rng.pick(DIRECTIONS), period };
}

function backgroundColour(bg: Background, size: number, x: number, y: number): Rgb {
  const [dx, dy] = bg.direction;
  switch (bg.kind) {
    case 'noise':
      return bg.base;
    case 'stripes': {
      const t = (x * dx + y * dy) / bg.period;
      return t - Math.floor(t) < 0.5 ? bg.base : bg.second;
    }
    case 'checks':
      return (Math.floor(x / bg.period) + Math.floor(y / bg.period)) % 2 === 0 ? bg.base : bg.second;
    case 'gradient': {
      // t in [0, 1] along the direction across the image.
      const t = clamp01(((x - size / 2) * dx + (y - size / 2) * dy) / size + 0.5);
      return [bg.base[0] + (bg.second[0] - bg.base[0]) * t, bg.base[1] + (bg.second[1] - bg.base[1]) * t, bg.base[2] + (bg.second[2] - bg.base[2]) * t];
    }
    default: {
      const never: never = bg.kind;
      throw new Error(`unknown background ${String(never)}`);
    }
  }
}

/** True when the two boxes, grown by `gap`, do not overlap. */
function separated(a: Bounds, b: Bounds, gap: number): boolean {
  return a.x1 + gap <= b.x0 || b.x1 + gap <= a.x0 || a.y1 + gap <= b.y0 || b.y1 + gap <= a.y0;
}

/** Places 1-3 objects of distinct shapes without overlap; undefined when the layout failed. */
function placeObjects(rng: Rng, size: number, count: number): SceneObject[] | undefined {
  const shapes = rng.shuffle([...SHAPES]).slice(0, count);
  const objects: SceneObject[] = [];
  for (const shape of shapes) {
    const sizeName = rng.pick(SIZES);
    const colour = rng.pick(COLOURS);
    const r = SIZE_SCALE[sizeName] * size * rng.uniform(0.92, 1.08);
    const rel = shapeBounds({ shape, cx: 0, cy: 0, r });
    const margin = BORDER_MARGIN * size;
    let placed: SceneObject | undefined;
    for (let attempt = 0; attempt < 100 && !placed; attempt++) {
      const cx = rng.uniform(margin - rel.x0, size - margin - rel.x1);
      const cy = rng.uniform(margin - rel.y0, size - margin - rel.y1);
      const p: PlacedShape = { shape, cx, cy, r };
      const bounds = shapeBounds(p);
      if (objects.every((o) => separated(o.bounds, bounds, OBJECT_GAP * size))) {
        placed = { shape, colour, size: sizeName, placed: p, rgb: jitter(COLOUR_VALUES[colour], rng, 0.04), bounds, hidden: 0 };
      }
    }
    if (!placed) return undefined;
    objects.push(placed);
  }
  return objects;
}

/** An occluder over one side of the target object, covering 30-60% of its box that way. */
function sampleOccluder(rng: Rng, size: number, target: number, b: Bounds): Occluder {
  const w = b.x1 - b.x0;
  const h = b.y1 - b.y0;
  const f = rng.uniform(0.3, 0.6);
  const out = rng.uniform(0.05, 0.2) * size;
  const side = rng.pick(['left', 'right', 'top', 'bottom'] as const);
  const spanX: [number, number] = [b.x0 - rng.uniform(0.1, 0.3) * w, b.x1 + rng.uniform(0.1, 0.3) * w];
  const spanY: [number, number] = [b.y0 - rng.uniform(0.1, 0.3) * h, b.y1 + rng.uniform(0.1, 0.3) * h];
  let bounds: Bounds;
  switch (side) {
    case 'left':
      bounds = { x0: b.x0 - out, x1: b.x0 + f * w, y0: spanY[0], y1: spanY[1] };
      break;
    case 'right':
      bounds = { x0: b.x1 - f * w, x1: b.x1 + out, y0: spanY[0], y1: spanY[1] };
      break;
    case 'top':
      bounds = { x0: spanX[0], x1: spanX[1], y0: b.y0 - out, y1: b.y0 + f * h };
      break;
    case 'bottom':
      bounds = { x0: spanX[0], x1: spanX[1], y0: b.y1 - f * h, y1: b.y1 + out };
      break;
  }
  const clipped = { x0: Math.max(0, bounds.x0), y0: Math.max(0, bounds.y0), x1: Math.min(size, bounds.x1), y1: Math.min(size, bounds.y1) };
  return { bounds: clipped, target, shade: rng.uniform(0.35, 0.65), pattern: rng.pick(['plain', 'hatch', 'grid'] as const) };
}

/**
 * Draws a scene's layout: objects, background and (each object with probability
 * `occlusion`) an occluder, rejected and retried while it would hide more than 70% of any
 * object.
 */
export function sampleScene(rng: Rng, size: number, occlusion: number): Scene {
  const count = rng.pick([1, 2, 2, 3, 3, 3, 1, 2] as const);
  let objects: SceneObject[] | undefined;
  for (let attempt = 0; attempt < 50 && !objects; attempt++) objects = placeObjects(rng, size, count);
  if (!objects) throw new Error(`scenes: could not place ${count} objects in a ${size} px image`);
  const background = sampleBackground(rng, size);
  const occluders: Occluder[] = [];
  objects.forEach((object, i) => {
    if (!rng.chance(occlusion)) return;
    for (let attempt = 0; attempt < 10; attempt++) {
      const candidate = sampleOccluder(rng, size, i, object.bounds);
      const boxes = [...occluders, candidate].map((o) => o.bounds);
      if (objects!.every((o) => hiddenFraction(o.placed, boxes, size, size) <= MAX_HIDDEN)) {
        occluders.push(candidate);
        return;
      }
    }
  });
  const boxes = occluders.map((o) => o.bounds);
  for (const object of objects) object.hidden = hiddenFraction(object.placed, boxes, size, size);
  return { size, objects, background, occluders };
}

function occluderColour(o: Occluder, x: number, y: number): Rgb {
  let v = o.shade;
  if (o.pattern === 'hatch' && Math.floor((x + y) / 3) % 2 === 0) v += 0.12;
  if (o.pattern === 'grid' && (Math.floor(x) % 4 === 0 || Math.floor(y) % 4 === 0)) v -= 0.12;
  return [v, v, v];
}

/** Draws a scene: background, objects, occluders, then pixel noise; returns 8-bit RGB [H, W, 3]. */
export function renderScene(scene: Scene, rng: Rng): Buffer {
  const { size } = scene;
  const raster = new Raster(size, size);
  raster.fill((x, y) => backgroundColour(scene.background, size, x, y));
  if (scene.background.kind === 'noise') raster.addNoise(() => rng.next(), 0.12);
  for (const object of scene.objects) {
    raster.paint(object.bounds, (x, y) => insideShape(object.placed, x, y), () => object.rgb);
  }
  for (const occluder of scene.occluders) {
    raster.paint(occluder.bounds, (x, y) => insideBounds(occluder.bounds, x, y), (x, y) => occluderColour(occluder, x, y));
  }
  raster.addNoise(() => rng.next(), 0.05);
  return raster.toBytes();
}

// ---------------------------------------------------------------------------------------
// Relations that captions may state.

export type Relation = 'left of' | 'right of' | 'above' | 'below';

/** The relations that plainly hold from a to b (what a is, relative to b). */
export function relations(a: Bounds, b: Bounds, size: number): Relation[] {
  const m = RELATION_MARGIN * size;
  const found: Relation[] = [];
  if (a.x1 + m <= b.x0) found.push('left of');
  if (b.x1 + m <= a.x0) found.push('right of');
  if (a.y1 + m <= b.y0) found.push('above');
  if (b.y1 + m <= a.y0) found.push('below');
  return found;
}

/** a and b side by side: horizontally apart, close, vertical extents overlapping. */
export function nextTo(a: Bounds, b: Bounds, size: number): boolean {
  const horizontal = relations(a, b, size).some((r) => r === 'left of' || r === 'right of');
  const gap = Math.max(b.x0 - a.x1, a.x0 - b.x1);
  const overlap = Math.min(a.y1, b.y1) - Math.max(a.y0, b.y0);
  return horizontal && gap <= 0.25 * size && overlap >= 0.5 * Math.min(a.y1 - a.y0, b.y1 - b.y0);
}

/** a between b and c, horizontally or vertically. */
export function between(a: Bounds, b: Bounds, c: Bounds, size: number): boolean {
  const ab = relations(a, b, size);
  const ac = relations(a, c, size);
  return (
    (ab.includes('right of') && ac.includes('left of')) ||
    (ab.includes('left of') && ac.includes('right of')) ||
    (ab.includes('below') && ac.includes('above')) ||
    (ab.includes('above') && ac.includes('below'))
  );
}

export type Region = 'left' | 'right' | 'top' | 'bottom' | 'middle';

/** The regions of the image an object plainly lies in (wholly in a half; centre near the middle). */
export function regions(b: Bounds, size: number): Region[] {
  const found: Region[] = [];
  if (b.x1 <= size / 2) found.push('left');
  if (b.x0 >= size / 2) found.push('right');
  if (b.y1 <= size / 2) found.push('top');
  if (b.y0 >= size / 2) found.push('bottom');
  const cx = (b.x0 + b.x1) / 2;
  const cy = (b.y0 + b.y1) / 2;
  if (Math.abs(cx - size / 2) <= 0.1 * size && Math.abs(cy - size / 2) <= 0.1 * size) found.push('middle');
  return found;
}
