/**
 * A tiny rasteriser for the scenes dataset: shapes as exact inside-tests, drawn into a float
 * RGB buffer with 4x4 supersampled coverage (anti-aliased edges), then quantised to bytes.
 *
 * Everything is plain arithmetic on numbers fixed in this file (the star's vertices are
 * written out, not computed with sin/cos), so the same scene gives the same bytes on every
 * machine. Coordinates are pixels, x to the right, y down; pixel (i, j) covers
 * [i, i+1) x [j, j+1).
 */

export const SHAPES = ['circle', 'square', 'triangle', 'star', 'cross', 'diamond'] as const;
export type Shape = (typeof SHAPES)[number];

/** An axis-aligned box: left, top, right, bottom (right and bottom exclusive). */
export interface Bounds {
  x0: number;
  y0: number;
  x1: number;
  y1: number;
}

/** A shape placed at a centre with a scale r (about half its width). */
export interface PlacedShape {
  shape: Shape;
  cx: number;
  cy: number;
  r: number;
}

type Point = readonly [number, number];

/** Outlines of the polygonal shapes in units of r around the centre. */
const POLYGONS: Record<Exclude<Shape, 'circle'>, readonly Point[]> = {
  square: [[-0.8, -0.8], [0.8, -0.8], [0.8, 0.8], [-0.8, 0.8]],
  triangle: [[0, -0.95], [0.98, 0.75], [-0.98, 0.75]],
  diamond: [[0, -1], [0.72, 0], [0, 1], [-0.72, 0]],
  cross: [
    [-0.3, -0.95], [0.3, -0.95], [0.3, -0.3], [0.95, -0.3], [0.95, 0.3], [0.3, 0.3],
    [0.3, 0.95], [-0.3, 0.95], [-0.3, 0.3], [-0.95, 0.3], [-0.95, -0.3], [-0.3, -0.3],
  ],
  // Five points, outer radius 1, inner 0.45, first point up.
  star: [
    [0, -1], [0.264503, -0.364058], [0.951057, -0.309017], [0.427975, 0.139058], [0.587785, 0.809017],
    [0, 0.45], [-0.587785, 0.809017], [-0.427975, 0.139058], [-0.951057, -0.309017], [-0.264503, -0.364058],
  ],
};
const CIRCLE_RADIUS = 0.9;

/** The tight bounding box of a placed shape. */
export function shapeBounds(s: PlacedShape): Bounds {
  if (s.shape === 'circle') {
    const rr = CIRCLE_RADIUS * s.r;
    return { x0: s.cx - rr, y0: s.cy - rr, x1: s.cx + rr, y1: s.cy + rr };
  }
  const points = POLYGONS[s.shape];
  let x0 = Infinity;
  let y0 = Infinity;
  let x1 = -Infinity;
  let y1 = -Infinity;
  for (const [u, v] of points) {
    x0 = Math.min(x0, s.cx + u * s.r);
    x1 = Math.max(x1, s.cx + u * s.r);
    y0 = Math.min(y0, s.cy + v * s.r);
    y1 = Math.max(y1, s.cy + v * s.r);
  }
  return { x0, y0, x1, y1 };
}

/** Even-odd point-in-polygon test in shape units. */
function insidePolygon(points: readonly Point[], u: number, v: number): boolean {
  let inside = false;
  for (let i = 0, j = points.length - 1; i < points.length; j = i++) {
    const [ui, vi] = points[i];
    const [uj, vj] = points[j];
    if (vi > v !== vj > v && u < ((uj - ui) * (v - vi)) / (vj - vi) + ui) inside = !inside;
  }
  return inside;
}

/** Whether the point (x, y) lies inside the placed shape. */
export function insideShape(s: PlacedShape, x: number, y: number): boolean {
  const u = (x - s.cx) / s.r;
  const v = (y - s.cy) / s.r;
  if (s.shape === 'circle') return u * u + v * v <= CIRCLE_RADIUS * CIRCLE_RADIUS;
  return insidePolygon(POLYGONS[s.shape], u, v);
}

/** Whether (x, y) lies in the box. */
export function insideBounds(b: Bounds, x: number, y: number): boolean {
  return x >= b.x0 && x < b.x1 && y >= b.y0 && y < b.y1;
}

/** Supersampling factor per axis: 4 x 4 = 16 samples per pixel. */
export const SUBSAMPLES = 4;

/** The sample positions of pixel i along one axis. */
function samplePosition(i: number, k: number): number {
  return i + (k + 0.5) / SUBSAMPLES;
}

export type Rgb = readonly [number, number, number];

/** A float RGB image, values in [0, 1], row-major [H, W, 3]. */
export class Raster {
  readonly data: Float32Array; // [H, W, 3]

  constructor(
    readonly width: number,
    readonly height: number,
  ) {
    this.data = new Float32Array(width * height * 3);
  }

  /** Sets every pixel from a colour function of its centre. */
  fill(colourAt: (x: number, y: number) => Rgb): void {
    for (let y = 0; y < this.height; y++) {
      for (let x = 0; x < this.width; x++) {
        const [r, g, b] = colourAt(x + 0.5, y + 0.5);
        const o = (y * this.width + x) * 3;
        this.data[o] = r;
        this.data[o + 1] = g;
        this.data[o + 2] = b;
      }
    }
  }

  /**
   * Paints a region: each pixel of `bounds` is blended with `colourAt` by the fraction of its
   * 16 samples for which `inside` holds.
   */
  paint(bounds: Bounds, inside: (x: number, y: number) => boolean, colourAt: (x: number, y: number) => Rgb): void {
    const xa = Math.max(0, Math.floor(bounds.x0));
    const xb = Math.min(this.width, Math.ceil(bounds.x1));
    const ya = Math.max(0, Math.floor(bounds.y0));
    const yb = Math.min(this.height, Math.ceil(bounds.y1));
    for (let py = ya; py < yb; py++) {
      for (let px = xa; px < xb; px++) {
        let hits = 0;
        for (let sy = 0; sy < SUBSAMPLES; sy++) {
          for (let sx = 0; sx < SUBSAMPLES; sx++) {
            if (inside(samplePosition(px, sx), samplePosition(py, sy))) hits += 1;
          }
        }
        if (hits === 0) continue;
        const alpha = hits / (SUBSAMPLES * SUBSAMPLES);
        const [r, g, b] = colourAt(px + 0.5, py + 0.5);
        const o = (py * this.width + px) * 3;
        this.data[o] += (r - this.data[o]) * alpha;
        this.data[o + 1] += (g - this.data[o + 1]) * alpha;
        this.data[o + 2] += (b - this.data[o + 2]) * alpha;
      }
    }
  }

  /** Adds per-pixel, per-channel noise: `amount` times a triangular variable in (-1, 1). */
  addNoise(next: () => number, amount: number): void {
    for (let i = 0; i < this.data.length; i++) this.data[i] += amount * (next() + next() - 1);
  }

  /** 8-bit RGB bytes, [H, W, 3], values clamped and rounded. */
  toBytes(): Buffer {
    const out = Buffer.alloc(this.data.length);
    for (let i = 0; i < this.data.length; i++) {
      const v = this.data[i];
      out[i] = v <= 0 ? 0 : v >= 1 ? 255 : Math.round(v * 255);
    }
    return out;
  }
}

/**
 * Fraction of a shape's area (measured on the same 16-samples-per-pixel grid as the
 * drawing) that lies inside any of the boxes.
 */
export function hiddenFraction(s: PlacedShape, boxes: readonly Bounds[], width: number, height: number): number {
  if (boxes.length === 0) return 0;
  const b = shapeBounds(s);
  let inside = 0;
  let hidden = 0;
  for (let py = Math.max(0, Math.floor(b.y0)); py < Math.min(height, Math.ceil(b.y1)); py++) {
    for (let px = Math.max(0, Math.floor(b.x0)); px < Math.min(width, Math.ceil(b.x1)); px++) {
      for (let sy = 0; sy < SUBSAMPLES; sy++) {
        for (let sx = 0; sx < SUBSAMPLES; sx++) {
          const x = samplePosition(px, sx);
          const y = samplePosition(py, sy);
          if (!insideShape(s, x, y)) continue;
          inside += 1;
          if (boxes.some((box) => insideBounds(box, x, y))) hidden += 1;
        }
      }
    }
  }
  return inside === 0 ? 0 : hidden / inside;
}
