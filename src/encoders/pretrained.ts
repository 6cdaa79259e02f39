/**
 * Pretrained CNN backbones, frozen, cut at a named feature layer: a tfjs layers model or a
 * graph model, from a local folder, an http(s) URL, or the MobileNetV2 shipped inside the
 * `nsfwjs` package (offline).
 *
 *   const encoder = await loadPretrainedEncoder({ model: 'nsfwjs:mobilenet_v2', format: 'layers',
 *     layer: 'out_relu', inputSize: 224, normalisation: 'minus-one-to-one' });
 *   encoder.run(pixels);      // [B, 224, 224, 3] -> [B, 7, 7, 1280]
 *   encoder.id;               // 'layers:out_relu:224:…:<hash of model files>': keys the feature cache
 *
 * Local files are read with `fs` and handed to tfjs through `tf.io.fromMemory` (tfjs's own
 * `file://` handler needs tfjs-node). Weight shards may be binary files (what
 * `tensorflowjs_converter` writes) or JavaScript modules exporting the shard as a base64
 * string (how nsfwjs 4 packages its models: `model.min.js`, `group1-shard1of1.min.js`);
 * both are read. Loading nsfwjs's MobileNetV2 this way takes about 0.1 s here (its own
 * loader: about 80 s).
 *
 * A layers model is cut at the feature layer before it is built: only the layers the
 * feature layer depends on (and their weights) are kept, and the input layer's size is set
 * to `inputSize`, so a fully convolutional backbone runs at any input size (e.g. 224 px
 * gives MobileNetV2's 7 x 7 x 1280 `out_relu` grid; 256 px gives ResNet's 8 x 8). A graph
 * model is executed up to the named node.
 */
import * as tf from '@tensorflow/tfjs';
import { createHash } from 'crypto';
import * as fs from 'fs';
import * as path from 'path';

import type { ChannelOrder, Normalisation, NormalisationName } from '../config';
import { projectPath } from '../common/project';
import { checkDeclaredPreprocessing } from './declaration';

export interface PretrainedSpec {
  /** 'nsfwjs:<model>' (mobilenet_v2, mobilenet_v2_mid, inception_v3), a folder or model.json path, or an http(s) URL of model.json. */
  model: string;
  format: 'layers' | 'graph';
  /** Feature layer (layers) or output node (graph). */
  layer: string;
  /** Side of the square input in pixels. */
  inputSize: number;
  normalisation: NormalisationName | Normalisation;
  channelOrder?: ChannelOrder;
  resize?: 'centre-crop' | 'stretch';
  /** Adaptive average pooling of the grid to grid x grid; null/undefined keeps it. */
  grid?: number | null;
}

export interface FrozenEncoder {
  /** Identifies the features: format, layer, input size, preprocessing, pooling, and a hash of the model's files. */
  readonly id: string;
  /** The id without the pooling grid: identifies the layer's own grid, what the feature cache stores. */
  readonly nativeId: string;
  readonly spec: PretrainedSpec;
  /** The grid the layer gives [G_h, G_w] and its channels D (before pooling). */
  readonly layerGrid: [number, number];
  readonly featureDim: number;
  /** The grid after pooling. */
  readonly grid: [number, number];
  /** pixels [B, S, S, 3] -> the feature layer's output [B, G_h, G_w, D]. */
  run(pixels: tf.Tensor4D): tf.Tensor4D;
  dispose(): void;
}

interface WeightSpec {
  name: string;
  shape: number[];
  dtype: string;
  quantization?: { dtype: string; [key: string]: unknown };
}

interface ModelArtifactsJson {
  format?: string;
  generatedBy?: string;
  convertedBy?: string;
  modelTopology: Record<string, unknown>;
  weightsManifest: { paths: string[]; weights: WeightSpec[] }[];
  [key: string]: unknown;
}

/** Where the models of the nsfwjs package lie (CommonJS build). */
export function nsfwjsModelFolder(name: string): string {
  let models: string;
  try {
    // Resolving (not loading) the CommonJS entry, dist/cjs/index.js; the models lie beside it.
    models = path.join(path.dirname(require.resolve('nsfwjs')), 'models');
  } catch {
    throw new Error(`model 'nsfwjs:${name}' needs the nsfwjs package (npm install nsfwjs), which is not installed`);
  }
  const folder = path.join(models, name);
  if (!fs.existsSync(folder)) {
    const known = fs.existsSync(models) ? fs.readdirSync(models).join(', ') : 'no models folder';
    throw new Error(`nsfwjs has no model ${JSON.stringify(name)}; it has ${known}`);
  }
  return folder;
}

/** Reads a JS module that exports a model.json object or a base64 shard (nsfwjs's packaging). */
function requireModule(file: string): unknown {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const mod = require(file) as unknown;
  return typeof mod === 'object' && mod !== null && 'default' in mod && !('modelTopology' in mod) ? (mod as { default: unknown }).default : mod;
}

function isUrl(source: string): boolean {
  return /^https?:\/\//i.test(source);
}

/** model.json (or model.min.js) and the weight bytes of a source, plus a hash of both. */
async function readArtifacts(location: string): Promise<{ json: ModelArtifactsJson; weightData: ArrayBuffer; hash: string; where: string }> {
  // A relative local path is relative to the project root (src/common/project.ts), as every config path.
  const source = isUrl(location) || location.startsWith('nsfwjs:') ? location : projectPath(location);
  const hash = createHash('sha256');
  let json: ModelArtifactsJson;
  let readShard: (name: string) => Promise<Uint8Array>;
  let where: string;
  if (isUrl(source)) {
    where = source;
    const response = await fetch(source);
    if (!response.ok) throw new Error(`model ${source}: HTTP ${response.status} ${response.statusText}`);
    const text = await response.text();
    json = JSON.parse(text) as ModelArtifactsJson;
    hash.update(text);
    const base = source.slice(0, source.lastIndexOf('/') + 1);
    readShard = async (name) => {
      const r = await fetch(base + name);
      if (!r.ok) throw new Error(`model ${source}: weight shard ${base + name}: HTTP ${r.status}`);
      return new Uint8Array(await r.arrayBuffer());
    };
  } else {
    const folder = source.startsWith('nsfwjs:') ? nsfwjsModelFolder(source.slice('nsfwjs:'.length)) : fs.existsSync(source) && fs.statSync(source).isFile() ? path.dirname(source) : source;
    where = folder;
    const modelFile = !source.startsWith('nsfwjs:') && fs.existsSync(source) && fs.statSync(source).isFile() ? source : ['model.json', 'model.min.js'].map((f) => path.join(folder, f)).find((f) => fs.existsSync(f));
    if (!modelFile) throw new Error(`model ${source}: no model.json (or nsfwjs-style model.min.js) in ${folder}`);
    if (modelFile.endsWith('.js')) {
      json = requireModule(path.resolve(modelFile)) as ModelArtifactsJson;
      hash.update(fs.readFileSync(modelFile));
    } else {
      const text = fs.readFileSync(modelFile, 'utf8');
      json = JSON.parse(text) as ModelArtifactsJson;
      hash.update(text);
    }
    readShard = async (name) => {
      const file = path.join(folder, name);
      if (fs.existsSync(file)) return new Uint8Array(await fs.promises.readFile(file));
      const js = [`${file}.min.js`, `${file}.js`].find((f) => fs.existsSync(f));
      if (!js) throw new Error(`model ${source}: weight shard ${name} not found in ${folder} (neither binary nor .min.js)`);
      const encoded = requireModule(path.resolve(js));
      if (typeof encoded !== 'string') throw new Error(`model ${source}: ${js} does not export a base64 string`);
      return new Uint8Array(Buffer.from(encoded, 'base64'));
    };
  }
  if (typeof json !== 'object' || json === null || !json.modelTopology || !Array.isArray(json.weightsManifest)) {
    throw new Error(`model ${source}: not a tfjs model.json (needs modelTopology and weightsManifest)`);
  }
  const parts: Uint8Array[] = [];
  for (const group of json.weightsManifest) for (const p of group.paths) parts.push(await readShard(p));
  const total = parts.reduce((n, p) => n + p.length, 0);
  const bytes = new Uint8Array(total);
  let offset = 0;
  for (const p of parts) {
    bytes.set(p, offset);
    hash.update(p);
    offset += p.length;
  }
  return { json, weightData: bytes.buffer, hash: hash.digest('hex').slice(0, 16), where };
}

const BYTES: Record<string, number> = { float32: 4, int32: 4, uint8: 1, uint16: 2, float16: 2, bool: 1 };

function specBytes(spec: WeightSpec): number {
  const dtype = spec.quantization?.dtype ?? spec.dtype;
  const bytes = BYTES[dtype];
  if (bytes === undefined) throw new Error(`weight ${spec.name}: dtype ${dtype} is not supported`);
  return spec.shape.reduce((a, b) => a * b, 1) * bytes;
}

interface KerasLayer {
  name: string;
  class_name: string;
  config: Record<string, unknown>;
  inbound_nodes?: unknown[];
}

/** Names of the layers an inbound_nodes entry reads (Keras 2 nested lists, or Keras 3 dicts with keras_history). */
function inboundNames(layer: KerasLayer): string[] {
  const names = new Set<string>();
  const walk = (node: unknown): void => {
    if (Array.isArray(node)) {
      if (node.length >= 3 && typeof node[0] === 'string' && typeof node[1] === 'number') {
        names.add(node[0]);
        return;
      }
      node.forEach(walk);
    } else if (node && typeof node === 'object') {
      const history = (node as { keras_history?: unknown }).keras_history;
      if (Array.isArray(history) && typeof history[0] === 'string') names.add(history[0]);
      else Object.values(node).forEach(walk);
    }
  };
  walk(layer.inbound_nodes ?? []);
  return [...names];
}

/**
 * Cuts a Keras functional/sequential topology at `layerName`: keeps its ancestors, makes it
 * the output, sets the input size; returns the topology and the weights to keep.
 */
function truncateTopology(json: ModelArtifactsJson, layerName: string, inputSize: number): { topology: Record<string, unknown>; keep: (weight: string) => boolean } {
  const topology = JSON.parse(JSON.stringify(json.modelTopology)) as Record<string, unknown>;
  const modelConfig = (topology.model_config ?? topology) as { class_name?: string; config?: { layers?: KerasLayer[]; output_layers?: unknown; input_layers?: unknown } | KerasLayer[] };
  const config = modelConfig.config;
  const layers: KerasLayer[] | undefined = Array.isArray(config) ? config : config?.layers;
  if (!layers) throw new Error('pretrained model: the topology has no layer list (not a Keras layers model)');
  const index = layers.findIndex((l) => l.name === layerName || (l.config?.name as string | undefined) === layerName);
  if (index < 0) {
    const names = layers.map((l) => l.name);
    throw new Error(`pretrained model: no layer ${JSON.stringify(layerName)}; the last layers are ${names.slice(-12).join(', ')} (${names.length} in all)`);
  }
  let kept: KerasLayer[];
  if (modelConfig.class_name === 'Sequential') {
    kept = layers.slice(0, index + 1);
    const first = kept[0];
    if (first && first.config.batch_input_shape) first.config.batch_input_shape = [null, inputSize, inputSize, 3];
    if (Array.isArray(config)) modelConfig.config = kept as never;
    else config!.layers = kept;
  } else {
    const byName = new Map(layers.map((l) => [l.name, l]));
    const needed = new Set<string>();
    const stack = [layers[index].name];
    while (stack.length > 0) {
      const name = stack.pop()!;
      if (needed.has(name)) continue;
      needed.add(name);
      const layer = byName.get(name);
      if (!layer) throw new Error(`pretrained model: layer ${JSON.stringify(name)} is read but not defined`);
      stack.push(...inboundNames(layer));
    }
    kept = layers.filter((l) => needed.has(l.name));
    for (const l of kept) {
      if (l.class_name === 'InputLayer') {
        if (l.config.batch_input_shape) l.config.batch_input_shape = [null, inputSize, inputSize, 3];
        if (l.config.batch_shape) l.config.batch_shape = [null, inputSize, inputSize, 3];
      }
    }
    const c = config as { layers: KerasLayer[]; output_layers?: unknown };
    c.layers = kept;
    c.output_layers = [[layers[index].name, 0, 0]];
  }
  const keptNames = new Set(kept.map((l) => l.name));
  const allNames = layers.map((l) => l.name).sort((a, b) => b.length - a.length); // longest prefix first
  const keep = (weight: string) => {
    const owner = allNames.find((n) => weight.startsWith(`${n}/`));
    return owner === undefined || keptNames.has(owner);
  };
  return { topology, keep };
}

/** The kept weight specs and their bytes, in manifest order. */
function filterWeights(json: ModelArtifactsJson, weightData: ArrayBuffer, keep: (name: string) => boolean): { specs: WeightSpec[]; data: ArrayBuffer } {
  const specs: WeightSpec[] = [];
  const chunks: Uint8Array[] = [];
  let offset = 0;
  const all = new Uint8Array(weightData);
  for (const group of json.weightsManifest) {
    for (const spec of group.weights) {
      const n = specBytes(spec);
      if (keep(spec.name)) {
        specs.push(spec);
        chunks.push(all.subarray(offset, offset + n));
      }
      offset += n;
    }
  }
  if (offset !== all.length) throw new Error(`pretrained model: the weight specs describe ${offset} bytes, the shards hold ${all.length}`);
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let o = 0;
  for (const c of chunks) {
    out.set(c, o);
    o += c.length;
  }
  return { specs, data: out.buffer };
}

function normalisationText(n: PretrainedSpec['normalisation']): string {
  return typeof n === 'string' ? n : `mean${n.mean.join(',')}std${n.std.join(',')}`;
}

/** The local folder of a model source (null for a URL or an nsfwjs model). */
function localFolder(location: string): string | null {
  if (isUrl(location) || location.startsWith('nsfwjs:')) return null;
  const source = projectPath(location);
  return fs.existsSync(source) && fs.statSync(source).isFile() ? path.dirname(source) : source;
}

/**
 * Loads a pretrained backbone cut at its feature layer. A local folder's
 * `captioning-encoder.json` (declaration.ts) must agree with the spec's preprocessing.
 */
export async function loadPretrainedEncoder(spec: PretrainedSpec): Promise<FrozenEncoder> {
  const folder = localFolder(spec.model);
  if (folder) checkDeclaredPreprocessing(folder, spec);
  const { json, weightData, hash, where } = await readArtifacts(spec.model);
  const S = spec.inputSize;
  let run: (x: tf.Tensor4D) => tf.Tensor4D;
  let dispose: () => void;
  if (spec.format === 'layers') {
    const { topology, keep } = truncateTopology(json, spec.layer, S);
    const { specs, data } = filterWeights(json, weightData, keep);
    const model = await tf.loadLayersModel(tf.io.fromMemory({ modelTopology: topology, weightSpecs: specs as tf.io.WeightsManifestEntry[], weightData: data }), { strict: true });
    run = (x) => model.predict(x) as tf.Tensor4D;
    dispose = () => model.dispose();
  } else {
    const model = await tf.loadGraphModel(
      tf.io.fromMemory({ modelTopology: json.modelTopology, weightSpecs: json.weightsManifest.flatMap((g) => g.weights) as tf.io.WeightsManifestEntry[], weightData, format: json.format, generatedBy: json.generatedBy, convertedBy: json.convertedBy } as tf.io.ModelArtifacts),
    );
    run = (x) => {
      const out = model.execute(x, spec.layer);
      const t = Array.isArray(out) ? out[0] : out;
      if (t.rank !== 4) throw new Error(`pretrained model ${spec.model}: node ${spec.layer} gives shape [${t.shape}], not a [B, H, W, C] grid`);
      return t as tf.Tensor4D;
    };
    dispose = () => model.dispose();
  }
  // One probe image gives the grid and the channels.
  const probe = tf.tidy(() => run(tf.zeros([1, S, S, 3]) as tf.Tensor4D));
  const [, gh, gw, D] = probe.shape;
  probe.dispose();
  if (spec.grid !== undefined && spec.grid !== null && !(Number.isInteger(spec.grid) && spec.grid >= 1)) throw new Error(`pretrained encoder: grid must be a whole number >= 1 or null, got ${spec.grid}`);
  const grid: [number, number] = spec.grid ? [spec.grid, spec.grid] : [gh, gw];
  const parts = [spec.format, spec.layer, `s${S}`, normalisationText(spec.normalisation), spec.channelOrder ?? 'rgb', spec.resize ?? 'centre-crop'];
  const id = [...parts, `g${grid.join('x')}`, hash].join(':');
  return {
    id,
    nativeId: [...parts, `n${gh}x${gw}`, hash].join(':'),
    spec,
    layerGrid: [gh, gw],
    featureDim: D,
    grid,
    run: (x) => {
      if (x.shape[1] !== S || x.shape[2] !== S) throw new Error(`pretrained encoder (${where}): input must be [B, ${S}, ${S}, 3], got [${x.shape}]`);
      return tf.tidy(() => run(x));
    },
    dispose,
  };
}
