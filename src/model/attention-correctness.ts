/**
 * Attention correctness on the scenes data: while the model says the words naming an
 * object, how much of its attention lies inside that object's box, against the share of
 * the image the box covers (what uniform attention would give).
 *
 *   const score = attentionCorrectness(items, { grid: [8, 8] });
 *   score.meanAttention;   // mean share of attention mass inside the named object's box
 *   score.meanArea;        // mean share of the image area the box covers
 *   score.ratio;           // meanAttention / meanArea: 1 = no better than uniform
 *
 * Matching: in a generated caption, each shape noun ("circle", "disc", "plus sign", …) with
 * the size and colour words right before it forms a noun phrase; the phrase names the
 * scene's object of that shape (each shape occurs at most once per scene) when the colour
 * (if said) is the object's. Every word of a matched phrase is scored; phrases naming a
 * shape the scene lacks, or with the wrong colour, count as unmatched.
 * Grid cell (i, j) covers rows [i H/G_h, (i+1) H/G_h) and columns likewise of the stored
 * image (the encoder saw the whole image: true for the square scenes); its attention counts
 * inside a box in proportion to the part of the cell the box overlaps.
 */
import type { SceneAnnotations } from '../data/scenes/annotations';
import { SHAPE_WORDS, SIZE_WORDS } from '../data/scenes/captions';
import { COLOURS } from '../data/scenes/layout';

export interface AttentionItem {
  /** The generated words. */
  words: readonly string[];
  /** Attention of each word [T, P], P = G_h * G_w, row-major. */
  alphas: Float32Array;
  annotations: SceneAnnotations;
}

export interface AttentionCorrectness {
  /** Words scored (in matched phrases). */
  words: number;
  /** Noun phrases matched to an object, and those naming no object of the scene. */
  matchedPhrases: number;
  unmatchedPhrases: number;
  meanAttention: number;
  meanArea: number;
  /** meanAttention / meanArea. */
  ratio: number;
}

const NOUNS = new Map<string, string>(); // first word -> shape (single-word nouns)
const TWO_WORD = new Map<string, string>(); // "plus sign" -> cross
for (const [shape, names] of Object.entries(SHAPE_WORDS)) {
  for (const name of names) {
    if (name.includes(' ')) TWO_WORD.set(name, shape);
    else NOUNS.set(name, shape);
  }
}
const COLOUR_SET = new Set<string>(COLOURS);
const SIZE_SET = new Set<string>(Object.values(SIZE_WORDS).flat());

/** Noun phrases of a caption: token positions and the shape and colour they name. */
export function nounPhrases(words: readonly string[]): { positions: number[]; shape: string; colour?: string }[] {
  const phrases: { positions: number[]; shape: string; colour?: string }[] = [];
  for (let i = 0; i < words.length; i++) {
    let shape: string | undefined;
    let end = i;
    const two = i + 1 < words.length ? TWO_WORD.get(`${words[i]} ${words[i + 1]}`) : undefined;
    if (two) {
      shape = two;
      end = i + 1;
    } else shape = NOUNS.get(words[i]);
    if (!shape) continue;
    const positions: number[] = [];
    let colour: string | undefined;
    for (let j = i - 1; j >= 0 && (COLOUR_SET.has(words[j]) || SIZE_SET.has(words[j])); j--) {
      positions.unshift(j);
      if (COLOUR_SET.has(words[j]) && colour === undefined) colour = words[j];
    }
    for (let j = i; j <= end; j++) positions.push(j);
    phrases.push({ positions, shape, ...(colour !== undefined ? { colour } : {}) });
    i = end;
  }
  return phrases;
}

/** Share of each grid cell covered by a box [x, y, w, h] in an image of width W and height H: [G_h * G_w]. */
export function boxCoverage(box: readonly [number, number, number, number], width: number, height: number, [Gh, Gw]: [number, number]): Float32Array {
  const [bx, by, bw, bh] = box;
  const out = new Float32Array(Gh * Gw);
  const ch = height / Gh;
  const cw = width / Gw;
  for (let i = 0; i < Gh; i++) {
    const oy = Math.max(0, Math.min((i + 1) * ch, by + bh) - Math.max(i * ch, by));
    for (let j = 0; j < Gw; j++) {
      const ox = Math.max(0, Math.min((j + 1) * cw, bx + bw) - Math.max(j * cw, bx));
      out[i * Gw + j] = (oy * ox) / (ch * cw);
    }
  }
  return out;
}

export function attentionCorrectness(items: readonly AttentionItem[], options: { grid: [number, number] }): AttentionCorrectness {
  const [Gh, Gw] = options.grid;
  const P = Gh * Gw;
  let [words, matched, unmatched, attention, area] = [0, 0, 0, 0, 0];
  for (const item of items) {
    const { width, height, objects } = item.annotations;
    if (!(width > 0 && height > 0)) throw new Error('attention correctness: the scene annotations have no image size');
    if (item.alphas.length !== item.words.length * P) {
      throw new Error(`attention correctness: ${item.words.length} words need [${item.words.length}, ${P}] attention weights, got ${item.alphas.length} values`);
    }
    for (const phrase of nounPhrases(item.words)) {
      const object = objects.find((o) => o.shape === phrase.shape);
      if (!object || (phrase.colour !== undefined && phrase.colour !== object.colour)) {
        unmatched += 1;
        continue;
      }
      matched += 1;
      const coverage = boxCoverage(object.box, width, height, [Gh, Gw]);
      const boxArea = (Math.max(0, Math.min(width, object.box[0] + object.box[2]) - Math.max(0, object.box[0])) * Math.max(0, Math.min(height, object.box[1] + object.box[3]) - Math.max(0, object.box[1]))) / (width * height);
      for (const t of phrase.positions) {
        let inside = 0;
        for (let p = 0; p < P; p++) inside += item.alphas[t * P + p] * coverage[p];
        attention += inside;
        area += boxArea;
        words += 1;
      }
    }
  }
  const meanAttention = words === 0 ? 0 : attention / words;
  const meanArea = words === 0 ? 0 : area / words;
  return { words, matchedPhrases: matched, unmatchedPhrases: unmatched, meanAttention, meanArea, ratio: meanArea === 0 ? 0 : meanAttention / meanArea };
}
