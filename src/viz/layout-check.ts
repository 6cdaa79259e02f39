/**
 * Does a figure read cleanly (issue #19)? Its text elements, as Chromium lays them out
 * (renderer.ts `measureSvgText`), must not overlap one another and must stay inside the
 * figure: a legend on an axis title, a rotated tick label cut at the edge, a bar label on an
 * error bar or a caption's score running into the next column are each a problem here.
 *
 *   const problems = await checkFigureLayout(svgText);
 *   problems.map(describeProblem);   // ['"seed 1" overlaps "epoch" by 6.2 px', ...]
 *
 * Boxes are compared as rotated rectangles (separating axes), so neighbouring rotated tick
 * labels, whose upright bounding boxes always overlap, are judged by their real extent.
 * Overlaps and overhangs under `tolerance` pixels (default 1) are not problems.
 */
import { measureSvgText, type TextBox } from './renderer';

export interface LayoutProblem {
  kind: 'overlap' | 'outside';
  text: string;
  /** The other text of an overlap. */
  other?: string;
  /** How far: the overlap's depth along its shallowest axis, or the overhang beyond the edge, in pixels. */
  pixels: number;
}

type Point = [number, number];

/** The depth two convex polygons overlap by along their shallowest separating axis (0 or less: apart). */
export function overlapDepth(a: readonly Point[], b: readonly Point[]): number {
  let depth = Infinity;
  for (const polygon of [a, b]) {
    for (let i = 0; i < polygon.length; i++) {
      const [x1, y1] = polygon[i];
      const [x2, y2] = polygon[(i + 1) % polygon.length];
      const length = Math.hypot(x2 - x1, y2 - y1);
      if (length === 0) continue;
      const axis: Point = [-(y2 - y1) / length, (x2 - x1) / length];
      const project = (p: readonly Point[]) => p.map(([x, y]) => x * axis[0] + y * axis[1]);
      const [pa, pb] = [project(a), project(b)];
      const overlap = Math.min(Math.max(...pa), Math.max(...pb)) - Math.max(Math.min(...pa), Math.min(...pb));
      depth = Math.min(depth, overlap);
    }
  }
  return depth;
}

/** The problems of measured text boxes in a figure of `width` x `height` pixels. */
export function layoutProblems(measured: { width: number; height: number; texts: readonly TextBox[] }, tolerance = 1): LayoutProblem[] {
  const problems: LayoutProblem[] = [];
  const { width, height, texts } = measured;
  for (const t of texts) {
    const xs = t.corners.map((c) => c[0]);
    const ys = t.corners.map((c) => c[1]);
    const overhang = Math.max(-Math.min(...xs), Math.max(...xs) - width, -Math.min(...ys), Math.max(...ys) - height);
    if (overhang > tolerance) problems.push({ kind: 'outside', text: t.text, pixels: overhang });
  }
  for (let i = 0; i < texts.length; i++) {
    for (let j = i + 1; j < texts.length; j++) {
      const depth = overlapDepth(texts[i].corners, texts[j].corners);
      if (depth > tolerance) problems.push({ kind: 'overlap', text: texts[i].text, other: texts[j].text, pixels: depth });
    }
  }
  return problems;
}

/** The problems of an SVG figure's text as Chromium lays it out. */
export async function checkFigureLayout(svg: string, tolerance = 1): Promise<LayoutProblem[]> {
  return layoutProblems(await measureSvgText(svg), tolerance);
}

const quote = (text: string) => JSON.stringify(text.length > 40 ? `${text.slice(0, 37)}...` : text);

/** One line for a problem: '"seed 1" overlaps "epoch" by 6.2 px', '"BERT static" leaves the figure by 12.0 px'. */
export function describeProblem(p: LayoutProblem): string {
  return p.kind === 'overlap' ? `${quote(p.text)} overlaps ${quote(p.other ?? '')} by ${p.pixels.toFixed(1)} px` : `${quote(p.text)} leaves the figure by ${p.pixels.toFixed(1)} px`;
}
