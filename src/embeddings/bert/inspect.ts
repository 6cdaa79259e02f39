/**
 * Looking inside a BERT, for the notebook chapter on embeddings: nearest neighbours of a
 * word among the vocabulary's static (piece-table) vectors, and how much a word's vector
 * moves with its context.
 *
 *   await nearestWords(bert, 'red', 5);
 *   // [{ word: 'blue', similarity: 0.81 }, { word: 'green', … }, …]
 *   const drift = await contextDrift(bert, 'circle', ['a red circle', 'a circle left of a star']);
 *   drift.similarity;   // [n, n] cosine between the word's vectors in the n sentences
 *   drift.toStatic;     // cosine of each to the word's context-free vector
 */
import { combinePieces } from './alignment';
import type { BertEmbedder } from './embedder';

export interface Neighbour {
  word: string;
  similarity: number;
}

function cosine(a: Float32Array, b: Float32Array): number {
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < a.length; i++) {
    dot += a[i] * b[i];
    na += a[i] * a[i];
    nb += b[i] * b[i];
  }
  return na === 0 || nb === 0 ? 0 : dot / Math.sqrt(na * nb);
}

/** Whole-word entries of the tokenizer's vocabulary: no `##` pieces, no `[SPECIAL]`, letters only. */
export function vocabularyWords(embedder: BertEmbedder): string[] {
  return [...embedder.vocabulary().keys()].filter((p) => /^\p{L}+$/u.test(p)).sort();
}

/**
 * The k words whose static vectors (BERT's piece-embedding table, pieces combined per the
 * embedder's alignment) are closest to `word`'s by cosine similarity, best first.
 * Candidates default to the tokenizer's whole-word pieces; pass the captioning vocabulary's
 * words to stay within the dataset.
 */
export async function nearestWords(embedder: BertEmbedder, word: string, k = 10, options: { candidates?: readonly string[] } = {}): Promise<Neighbour[]> {
  if (!Number.isInteger(k) || k < 1) throw new Error(`nearestWords: k must be a whole number >= 1, got ${k}`);
  const table = await embedder.staticTable();
  const W = embedder.width;
  const query = embedder.staticVectorsFrom(table, [word]).subarray(W); // [W]
  const candidates = (options.candidates ?? vocabularyWords(embedder)).filter((c) => c !== word && !c.startsWith('<'));
  const vector = new Float32Array(W);
  const scored = candidates.map((c) => {
    const ids = embedder.wordPieces(c);
    const rows = new Float32Array(ids.length * W);
    ids.forEach((id, i) => rows.set(table.subarray(id * W, (id + 1) * W), i * W));
    combinePieces(rows, W, 0, ids.length, embedder.settings.alignment, vector, 0);
    return { word: c, similarity: cosine(query, vector) };
  });
  return scored.sort((a, b) => b.similarity - a.similarity || (a.word < b.word ? -1 : 1)).slice(0, k);
}

export interface ContextDrift {
  word: string;
  /** The sentences that contain the word (others are skipped), as read. */
  sentences: string[];
  /** 'bidirectional': BERT over each whole sentence; 'causal': over the sentence up to the word. */
  mode: 'bidirectional' | 'causal';
  /** The word's vector in each sentence (first occurrence), [W] each. */
  vectors: Float32Array[];
  /** Cosine similarity between the word's vectors in every pair of sentences, [n, n]. */
  similarity: number[][];
  /** Cosine of each contextual vector to the word's static (piece-table) vector. */
  toStatic: number[];
  /** Mean cosine over pairs of different sentences (1: the context changes nothing). */
  meanPairwise: number;
}

/**
 * How `word`'s vector changes with its context: its vector in each sentence that contains
 * it, compared pairwise and with its context-free vector.
 */
export async function contextDrift(
  embedder: BertEmbedder,
  word: string,
  sentences: readonly (string | readonly string[])[],
  options: { mode?: 'bidirectional' | 'causal' } = {},
): Promise<ContextDrift> {
  const mode = options.mode ?? 'bidirectional';
  const tokens = sentences.map((s) => (typeof s === 'string' ? s.toLowerCase().split(/\s+/).filter(Boolean) : [...s]));
  const kept = tokens.filter((t) => t.includes(word));
  if (kept.length === 0) throw new Error(`contextDrift: no sentence contains ${JSON.stringify(word)}`);
  const W = embedder.width;
  const inputs = kept.map((t) => (mode === 'causal' ? t.slice(0, t.indexOf(word) + 1) : t));
  const runs = await embedder.run(inputs);
  const vectors = runs.map((rows, i) => {
    const row = mode === 'causal' ? inputs[i].length : kept[i].indexOf(word) + 1;
    return rows.slice(row * W, (row + 1) * W);
  });
  const staticVector = (await embedder.staticVectors([word])).subarray(W);
  const similarity = vectors.map((a) => vectors.map((b) => cosine(a, b)));
  let sum = 0;
  let pairs = 0;
  for (let i = 0; i < vectors.length; i++) for (let j = i + 1; j < vectors.length; j++) {
    sum += similarity[i][j];
    pairs += 1;
  }
  return {
    word,
    sentences: kept.map((t) => t.join(' ')),
    mode,
    vectors,
    similarity,
    toStatic: vectors.map((v) => cosine(v, staticVector)),
    meanPairwise: pairs > 0 ? sum / pairs : 1,
  };
}
