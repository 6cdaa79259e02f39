/**
 * A converted model folder's own account of the preprocessing its weights expect:
 * `captioning-encoder.json` beside model.json, written when the model is converted
 * (src/encoders/README.md), e.g. for Keras' ResNet101:
 *
 *   { "source": "keras.applications.ResNet101", "normalisation": "caffe", "channelOrder": "bgr",
 *     "inputSize": 256, "resize": "stretch" }
 *
 * Every field is optional; `source` is a note. `normalisation` is a preset name (`imagenet`,
 * `minus-one-to-one`, `zero-to-one`, or `caffe`: Keras' Caffe-style means, CAFFE_NORMALISATION)
 * or `{ "mean": [3], "std": [3] }`, compared by value. Loading the folder with a config whose
 * preprocessing differs is refused (loadPretrainedEncoder): the features would be computed from
 * wrongly prepared pixels with no other error. A folder without the file is not checked.
 */
import * as fs from 'fs';
import * as path from 'path';

import { CAFFE_NORMALISATION, CHANNEL_ORDERS, type ChannelOrder, type Normalisation, type NormalisationName } from '../config';
import { NORMALISATIONS } from '../data/images';

export const DECLARATION_FILE = 'captioning-encoder.json';

export interface EncoderDeclaration {
  source?: string;
  normalisation?: NormalisationName | 'caffe' | Normalisation;
  channelOrder?: ChannelOrder;
  inputSize?: number;
  resize?: 'centre-crop' | 'stretch';
}

/** The preprocessing a spec (the config's encoder section) asks for. */
export interface PreprocessingSpec {
  normalisation: NormalisationName | Normalisation;
  channelOrder?: ChannelOrder;
  inputSize: number;
  resize?: 'centre-crop' | 'stretch';
}

/** Named normalisations a declaration may use: the config's presets and `caffe`. */
const NAMED: Record<string, Normalisation> = { ...NORMALISATIONS, caffe: CAFFE_NORMALISATION };
const RESIZES = ['centre-crop', 'stretch'];
const FIELDS = ['source', 'normalisation', 'channelOrder', 'inputSize', 'resize'];

function valuesOf(n: string | Normalisation, file: string): Normalisation {
  if (typeof n !== 'string') {
    const ok = (xs: unknown) => Array.isArray(xs) && xs.length === 3 && xs.every((x) => typeof x === 'number' && Number.isFinite(x));
    if (!n || typeof n !== 'object' || !ok(n.mean) || !ok(n.std)) throw new Error(`${file}: field "normalisation" must be a name (${Object.keys(NAMED).join(', ')}) or { "mean": [3 numbers], "std": [3 numbers] }, got ${JSON.stringify(n)}`);
    return n;
  }
  const named = NAMED[n];
  if (!named) throw new Error(`${file}: field "normalisation" is ${JSON.stringify(n)}, not one of ${Object.keys(NAMED).join(', ')} (or { "mean", "std" })`);
  return named;
}

function sameValues(a: Normalisation, b: Normalisation): boolean {
  const close = (x: number, y: number) => Math.abs(x - y) <= 1e-6 * Math.max(1, Math.abs(x), Math.abs(y));
  return [0, 1, 2].every((c) => close(a.mean[c], b.mean[c]) && close(a.std[c], b.std[c]));
}

/** A normalisation as written, with the preset it equals (e.g. `{"mean":[…],"std":[…]} (= caffe)`). */
function describe(n: string | Normalisation): string {
  if (typeof n === 'string') return JSON.stringify(n);
  const same = Object.keys(NAMED).find((name) => sameValues(NAMED[name], n));
  return `${JSON.stringify(n)}${same ? ` (= ${same})` : ''}`;
}

/** Reads a folder's declaration; null when it has none. */
export function readDeclaration(folder: string): EncoderDeclaration | null {
  const file = path.join(folder, DECLARATION_FILE);
  if (!fs.existsSync(file)) return null;
  let json: unknown;
  try {
    json = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (error) {
    throw new Error(`${file}: not valid JSON (${(error as Error).message})`);
  }
  if (!json || typeof json !== 'object' || Array.isArray(json)) throw new Error(`${file}: must be a JSON object with fields ${FIELDS.join(', ')}`);
  const record = json as Record<string, unknown>;
  const unknown = Object.keys(record).filter((k) => !FIELDS.includes(k));
  if (unknown.length > 0) throw new Error(`${file}: unknown field(s) ${unknown.map((k) => JSON.stringify(k)).join(', ')}; known fields: ${FIELDS.join(', ')}`);
  if (record.normalisation !== undefined) valuesOf(record.normalisation as string | Normalisation, file);
  if (record.channelOrder !== undefined && !(CHANNEL_ORDERS as readonly unknown[]).includes(record.channelOrder)) throw new Error(`${file}: field "channelOrder" must be one of ${CHANNEL_ORDERS.join(', ')}, got ${JSON.stringify(record.channelOrder)}`);
  if (record.inputSize !== undefined && !(Number.isInteger(record.inputSize) && (record.inputSize as number) > 0)) throw new Error(`${file}: field "inputSize" must be a positive whole number, got ${JSON.stringify(record.inputSize)}`);
  if (record.resize !== undefined && !RESIZES.includes(record.resize as string)) throw new Error(`${file}: field "resize" must be one of ${RESIZES.join(', ')}, got ${JSON.stringify(record.resize)}`);
  return record as EncoderDeclaration;
}

/**
 * Refuses a spec whose preprocessing differs from what the folder's captioning-encoder.json
 * declares: the error names the file, and per field the folder's value and the config's.
 */
export function checkDeclaredPreprocessing(folder: string, spec: PreprocessingSpec): void {
  const declared = readDeclaration(folder);
  if (!declared) return;
  const file = path.join(folder, DECLARATION_FILE);
  const differences: string[] = [];
  const differ = (field: string, there: string, here: string) => differences.push(`"${field}": the folder declares ${there}, the config (encoder.${field}) has ${here}`);
  if (declared.normalisation !== undefined && !sameValues(valuesOf(declared.normalisation, file), valuesOf(spec.normalisation, 'the config'))) {
    differ('normalisation', describe(declared.normalisation), describe(spec.normalisation));
  }
  const channelOrder = spec.channelOrder ?? 'rgb';
  if (declared.channelOrder !== undefined && declared.channelOrder !== channelOrder) differ('channelOrder', JSON.stringify(declared.channelOrder), JSON.stringify(channelOrder));
  if (declared.inputSize !== undefined && declared.inputSize !== spec.inputSize) differ('inputSize', String(declared.inputSize), String(spec.inputSize));
  const resize = spec.resize ?? 'centre-crop';
  if (declared.resize !== undefined && declared.resize !== resize) differ('resize', JSON.stringify(declared.resize), JSON.stringify(resize));
  if (differences.length > 0) {
    const source = declared.source ? ` (${declared.source})` : '';
    throw new Error(`pretrained encoder: ${file}${source} declares preprocessing the config does not use; features would be computed from wrongly prepared pixels:\n  ${differences.join('\n  ')}\nSet the config to the declared values (the paper profile's are Keras' Caffe-style: CAFFE_NORMALISATION, channelOrder 'bgr'), or fix the file if the conversion differs.`);
  }
}
