/**
 * How a BertEmbedder reads a loaded checkpoint (embedder.ts): which hidden state, how a
 * word's pieces combine, the segment id and the batch size, with their defaults and checks.
 *
 *   const bert = await BertEmbedder.load(id, { layer: 2, alignment: 'mean', segmentId: REPORT_SEGMENT_ID });
 *
 * Segment (token type) ids are all `segmentId`: 0 is BERT's convention for a single
 * sentence; the report fed 1 (REPORT_SEGMENT_ID).
 *
 * `layer`: 'last' reads `last_hidden_state`; a number k reads the graph output
 * `hidden_state_k` (0 = the embedding layer's output), which the project's own BERTs export
 * for every layer; hub exports usually have only `last_hidden_state` (transformers.js
 * returns only what the graph outputs), and asking them for another layer is an error that
 * lists what the checkpoint has.
 */
import type { Alignment } from '../../config';
import { checkAlignment } from './alignment';

/** The segment id the report fed with every piece (BERT's own convention for one sentence is 0). */
export const REPORT_SEGMENT_ID = 1;

/** 'last' (`last_hidden_state`) or a layer number k (`hidden_state_k`, 0 = embeddings). */
export type LayerChoice = 'last' | number;

export interface EmbedderSettings {
  /** Which hidden state (default 'last', as the report: the 12th layer of bert-base). */
  layer: LayerChoice;
  /** How a word's pieces combine (default 'sum', as the report's code ancestry). */
  alignment: Alignment;
  /** Token type id of every piece (default 0, BERT's convention; the report: 1). */
  segmentId: number;
  /** Sentences per ONNX run (default 32). */
  batchSize: number;
}

export const DEFAULT_EMBEDDER_SETTINGS: Readonly<EmbedderSettings> = Object.freeze({ layer: 'last', alignment: 'sum', segmentId: 0, batchSize: 32 });

/** The settings themselves when valid; else an error naming the setting. */
export function checkSettings(s: EmbedderSettings): EmbedderSettings {
  checkAlignment(s.alignment);
  if (s.layer !== 'last' && !(Number.isInteger(s.layer) && s.layer >= 0)) throw new Error(`BERT layer must be 'last' or a whole number >= 0, got ${JSON.stringify(s.layer)}`);
  if (!Number.isInteger(s.segmentId) || s.segmentId < 0) throw new Error(`BERT segmentId must be a whole number >= 0, got ${s.segmentId}`);
  if (!Number.isInteger(s.batchSize) || s.batchSize < 1) throw new Error(`BERT batchSize must be a whole number >= 1, got ${s.batchSize}`);
  return s;
}

/** The graph output a layer choice reads: `last_hidden_state` or `hidden_state_k`. */
export function layerOutputName(layer: LayerChoice): string {
  return layer === 'last' ? 'last_hidden_state' : `hidden_state_${layer}`;
}
