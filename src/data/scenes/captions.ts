/**
 * Captions of a scene: varied templates and synonyms, so that references differ in word
 * choice as COCO's do, and every statement true of the picture.
 *
 *   "a red circle to the left of a small blue square"
 *   "there is a large green triangle above a yellow star"
 *   "three shapes: a purple disc, a little orange cross and a red diamond"
 *
 * Every caption names every object of its scene (colour and shape always; size sometimes),
 * each shape at most once per scene, so a caption's words identify the objects. For each
 * mention the caption records which token positions name which object (adjectives and
 * noun, not the article): the ground truth for "did attention look at the object while
 * the model said its name?".
 */
import type { Rng } from '../../common/random';
import { vocabularyTokens } from '../tokenize';
import { type Background, between, nextTo, type Region, regions, type Relation, relations, type Scene, type Size } from './layout';
import type { Shape } from './raster';

/** Which token positions of a caption name which object (index into the scene's objects). */
export interface Mention {
  object: number;
  tokens: number[];
}

export interface SceneCaption {
  raw: string;
  tokens: string[];
  mentions: Mention[];
  /** Name of the template it came from (for statistics and tests). */
  template: string;
}

/** Nouns of each shape; the first is the plain name. */
export const SHAPE_WORDS: Record<Shape, readonly string[]> = {
  circle: ['circle', 'disc'],
  square: ['square', 'box'],
  triangle: ['triangle'],
  star: ['star'],
  cross: ['cross', 'plus sign'],
  diamond: ['diamond', 'rhombus'],
};

export const SIZE_WORDS: Record<Size, readonly string[]> = {
  large: ['large', 'big'],
  small: ['small', 'little', 'tiny'],
};

export const RELATION_WORDS: Record<Relation | 'next to', readonly string[]> = {
  'left of': ['to the left of', 'left of', 'on the left of'],
  'right of': ['to the right of', 'right of', 'on the right of'],
  above: ['above', 'over'],
  below: ['below', 'under', 'beneath'],
  'next to': ['next to', 'beside'],
};

export const BACKGROUND_WORDS: Record<Background['kind'], readonly string[]> = {
  noise: ['noisy', 'speckled'],
  stripes: ['striped'],
  checks: ['checkered', 'checked'],
  gradient: ['shaded'],
};

const REGION_WORDS: Record<Region | 'corner', readonly string[]> = {
  left: ['on the left'],
  right: ['on the right'],
  top: ['at the top', 'near the top'],
  bottom: ['at the bottom', 'near the bottom'],
  middle: ['in the middle', 'in the centre'],
  corner: ['in the {v} {h} corner'],
};

const GROUP_WORDS = ['shapes', 'objects'];
const PICTURE_WORDS = ['a picture of', 'an image of', 'a drawing of'];
/** Probability that a mention names the object's size. */
const SIZE_WORD_PROBABILITY = 0.45;

/** Builds one caption: words, punctuation that only the raw text shows, and mentions. */
class CaptionBuilder {
  private readonly pieces: string[] = [];
  readonly tokens: string[] = [];
  readonly mentions: Mention[] = [];

  constructor(
    private readonly scene: Scene,
    private readonly rng: Rng,
  ) {}

  /** Plain words (a phrase is split on spaces). */
  words(phrase: string): this {
    for (const word of phrase.split(' ')) {
      this.pieces.push(word);
      this.tokens.push(word);
    }
    return this;
  }

  /** Punctuation glued to the previous word, absent from the tokens. */
  punct(mark: ',' | ':'): this {
    this.pieces[this.pieces.length - 1] += mark;
    return this;
  }

  /**
   * A noun phrase for object i: [article] [size] colour noun. `article` 'a' becomes 'an'
   * before a vowel; 'none' leaves it out (after "a single"); 'the' refers back.
   */
  object(i: number, article: 'a' | 'the' | 'none' = 'a'): this {
    const object = this.scene.objects[i];
    const phrase: string[] = [];
    if (this.rng.chance(SIZE_WORD_PROBABILITY)) phrase.push(this.rng.pick(SIZE_WORDS[object.size]));
    phrase.push(object.colour);
    phrase.push(...this.rng.pick(SHAPE_WORDS[object.shape]).split(' '));
    if (article !== 'none') this.words(article === 'a' && /^[aeiou]/.test(phrase[0]) ? 'an' : article);
    const start = this.tokens.length;
    this.words(phrase.join(' '));
    this.mentions.push({ object: i, tokens: phrase.map((_, k) => start + k) });
    return this;
  }

  /** "a, b and c" (or "a and b"). */
  list(order: readonly number[]): this {
    order.forEach((i, k) => {
      if (k > 0 && k === order.length - 1) this.words('and');
      this.object(i);
      if (k < order.length - 2) this.punct(',');
    });
    return this;
  }

  /** A relation phrase that holds from object a to object b. */
  relation(a: number, b: number): this {
    const holding = relations(this.scene.objects[a].bounds, this.scene.objects[b].bounds, this.scene.size);
    return this.words(this.rng.pick(RELATION_WORDS[this.rng.pick(holding)]));
  }

  finish(template: string): SceneCaption {
    let raw = this.pieces.join(' ');
    raw = raw[0].toUpperCase() + raw.slice(1);
    if (this.rng.chance(0.5)) raw += '.';
    const check = vocabularyTokens(raw);
    if (check.join(' ') !== this.tokens.join(' ')) {
      throw new Error(`scenes: caption ${JSON.stringify(raw)} tokenizes to ${JSON.stringify(check)}, built as ${JSON.stringify(this.tokens)}`);
    }
    return { raw, tokens: this.tokens, mentions: this.mentions, template };
  }
}

type Template = (c: CaptionBuilder, order: number[], scene: Scene, rng: Rng) => CaptionBuilder | undefined;

const hasRelation = (scene: Scene, a: number, b: number) => relations(scene.objects[a].bounds, scene.objects[b].bounds, scene.size).length > 0;

/** A region phrase true of object 0, or undefined. */
function regionPhrase(scene: Scene, rng: Rng): string | undefined {
  const found = regions(scene.objects[0].bounds, scene.size);
  const v = found.find((r) => r === 'top' || r === 'bottom');
  const h = found.find((r) => r === 'left' || r === 'right');
  const options: string[] = [];
  if (v && h) options.push(`in the ${v} ${h} corner`);
  for (const r of found) options.push(...REGION_WORDS[r]);
  return options.length > 0 ? rng.pick(options) : undefined;
}

const SINGLE: Record<string, Template> = {
  plain: (c) => c.object(0),
  'there is': (c) => c.words('there is').object(0),
  background: (c, _o, scene, rng) => c.object(0).words(`on a ${rng.pick(BACKGROUND_WORDS[scene.background.kind])} background`),
  single: (c, _o, _s, rng) => c.words(rng.pick(['a single', 'just one', 'only one'])).object(0, 'none'),
  region: (c, _o, scene, rng) => {
    const phrase = regionPhrase(scene, rng);
    return phrase ? c.object(0).words(phrase) : undefined;
  },
  picture: (c, _o, _s, rng) => c.words(rng.pick(PICTURE_WORDS)).object(0),
  count: (c, _o, _s, rng) => c.words(`one ${rng.pick(['shape', 'object'])}`).punct(':').object(0),
};

const PAIR: Record<string, Template> = {
  relation: (c, [a, b]) => c.object(a).relation(a, b).object(b),
  'there is': (c, [a, b]) => c.words('there is').object(a).relation(a, b).object(b),
  'is relation': (c, [a, b]) => c.object(a).words('is').relation(a, b).object(b),
  count: (c, order, _s, rng) => c.words(`two ${rng.pick(GROUP_WORDS)}`).punct(':').list(order),
  and: (c, order) => c.list(order),
  background: (c, order, scene, rng) => c.list(order).words(`on a ${rng.pick(BACKGROUND_WORDS[scene.background.kind])} background`),
  'next to': (c, [a, b], scene, rng) =>
    nextTo(scene.objects[a].bounds, scene.objects[b].bounds, scene.size) ? c.object(a).words(rng.pick(RELATION_WORDS['next to'])).object(b) : undefined,
  picture: (c, order, _s, rng) => c.words(rng.pick(PICTURE_WORDS)).list(order),
};

const TRIPLE: Record<string, Template> = {
  count: (c, order, _s, rng) => c.words(`three ${rng.pick(GROUP_WORDS)}`).punct(':').list(order),
  'there are': (c, order, _s, rng) => c.words(`there are three ${rng.pick(GROUP_WORDS)}`).punct(':').list(order),
  list: (c, order) => c.list(order),
  picture: (c, order, _s, rng) => c.words(rng.pick(PICTURE_WORDS)).list(order),
  'two relations': (c, [a, b, d], scene) =>
    hasRelation(scene, a, b) && hasRelation(scene, d, b)
      ? c.object(a).words('is').relation(a, b).object(b).words('and').object(d).words('is').relation(d, b).object(b, 'the')
      : undefined,
  between: (c, [a, b, d], scene) =>
    between(scene.objects[a].bounds, scene.objects[b].bounds, scene.objects[d].bounds, scene.size)
      ? c.object(a).words('between').object(b).words('and').object(d)
      : undefined,
};

/** The templates for a scene's number of objects. */
export function templatesFor(count: number): Record<string, Template> {
  if (count === 1) return SINGLE;
  if (count === 2) return PAIR;
  if (count === 3) return TRIPLE;
  throw new Error(`scenes: no caption templates for ${count} objects`);
}

/**
 * `count` distinct captions of a scene. Templates are taken in a shuffled round-robin so
 * that the references of one image use different templates where the scene allows it; each
 * caption names the objects in a fresh random order.
 */
export function captionScene(scene: Scene, rng: Rng, count = 5): SceneCaption[] {
  const templates = Object.entries(templatesFor(scene.objects.length));
  const captions: SceneCaption[] = [];
  const seen = new Set<string>();
  let order = rng.shuffle([...templates]);
  for (let attempt = 0; captions.length < count; attempt++) {
    if (attempt >= 500) throw new Error(`scenes: found only ${captions.length} distinct captions for a scene`);
    if (attempt > 0 && attempt % templates.length === 0) order = rng.shuffle([...templates]);
    const [name, template] = order[attempt % templates.length];
    // Object order: random; for relation templates this also picks which pair is described.
    const objects = rng.shuffle(scene.objects.map((_, i) => i));
    const built = template(new CaptionBuilder(scene, rng), objects, scene, rng);
    if (!built) continue;
    const caption = built.finish(name);
    if (seen.has(caption.tokens.join(' '))) continue;
    seen.add(caption.tokens.join(' '));
    captions.push(caption);
  }
  return captions;
}
