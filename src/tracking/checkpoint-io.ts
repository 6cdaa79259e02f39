/**
 * What a job saves into a checkpoint folder and loads back (the folder's lifecycle, sidecar
 * and retention are in checkpoints.ts). Each entry under a name of the job's choosing:
 * - named tensors (`saveTensors`): tfjs's weight encoding, `<name>.json` (specs) + `<name>.bin`;
 * - named host arrays (`saveArrays`: `{ shape, data: Float32Array | Int32Array }`, no tensors
 *   needed), `<name>.json` (table) + `<name>.bin` (little-endian values back to back);
 * - a tfjs layers model (`saveModel`): `<name>/model.json` + `<name>/weights.bin`, the
 *   layout `tf.loadLayersModel('file://…/model.json')` reads;
 * - an optimiser's state (`saveOptimizer`): its weights (iterations, moments) as named
 *   tensors, plus the scalar variables it keeps privately (Adam's running powers of beta),
 *   so that a resumed run continues bit for bit as the uninterrupted one would have;
 * - JSON (`saveJson`, `setState`).
 * The reader refuses files the sidecar does not list (DamagedRunError naming them).
 */
import * as tf from '@tensorflow/tfjs';
import * as fs from 'fs';
import * as path from 'path';

import type { JsonValue } from './canonical';
import type { CheckpointInfo } from './checkpoints';
import { DamagedRunError } from './errors';
import { readJsonIfExists } from './files';

/** An array on the host (not a tensor): its shape and values. */
export interface HostArray {
  shape: number[];
  data: Float32Array | Int32Array;
}

interface ArrayTable {
  format: 'host-arrays';
  data: string;
  byteOrder: 'little-endian';
  arrays: { name: string; shape: number[]; dtype: 'float32' | 'int32'; offset: number; length: number }[];
}

export interface OptimizerRecord {
  className: string;
  config: Record<string, unknown>;
  /** Scalar variables the optimiser keeps outside getWeights(), by property name. */
  scalars: Record<string, number>;
}

function assertName(name: string): void {
  if (!/^[A-Za-z0-9_-]+$/.test(name) || name === 'checkpoint') {
    throw new Error(`checkpoint entry name ${JSON.stringify(name)} may use letters, digits, '_' and '-' only (and not 'checkpoint')`);
  }
}

function toArrayBuffer(bytes: Uint8Array): ArrayBuffer {
  return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
}

function joinWeightData(data: tf.io.WeightData): ArrayBuffer {
  return Array.isArray(data) ? tf.io.CompositeArrayBuffer.join(data) : data;
}

/** Scalar tfjs variables held directly by an optimiser object (Adam: accBeta1, accBeta2). */
function scalarVariables(optimizer: tf.Optimizer): Record<string, tf.Variable> {
  const out: Record<string, tf.Variable> = {};
  for (const [key, value] of Object.entries(optimizer)) {
    if (value instanceof tf.Variable && value.rank === 0 && !value.isDisposed) out[key] = value;
  }
  return out;
}

/** Collects what a job saves into a checkpoint folder being written. */
export class CheckpointWriter {
  readonly files: { path: string; bytes: number }[] = [];
  readonly optimizers: Record<string, OptimizerRecord> = {};
  state: JsonValue | undefined;

  constructor(readonly dir: string) {}

  private async write(relative: string, data: string | Uint8Array): Promise<void> {
    const file = path.join(this.dir, relative);
    await fs.promises.mkdir(path.dirname(file), { recursive: true });
    await fs.promises.writeFile(file, data);
    this.files.push({ path: relative, bytes: typeof data === 'string' ? Buffer.byteLength(data) : data.byteLength });
  }

  /** Saves tensors by name: `<name>.json` (weight specs) + `<name>.bin` (data). */
  async saveTensors(name: string, tensors: tf.NamedTensorMap | { name: string; tensor: tf.Tensor }[]): Promise<void> {
    assertName(name);
    const { data, specs } = await tf.io.encodeWeights(tensors);
    await this.write(`${name}.bin`, new Uint8Array(data));
    await this.write(`${name}.json`, JSON.stringify({ format: 'tfjs-weights', data: `${name}.bin`, specs }, null, 1) + '\n');
  }

  /** Saves host arrays by name (names may hold '/' and '.'): `<name>.json` (table) + `<name>.bin`. */
  async saveArrays(name: string, arrays: ReadonlyMap<string, HostArray> | Record<string, HostArray>): Promise<void> {
    assertName(name);
    const entries: [string, HostArray][] =
      arrays instanceof Map ? [...(arrays as ReadonlyMap<string, HostArray>).entries()] : Object.entries(arrays as Record<string, HostArray>);
    const table: ArrayTable = { format: 'host-arrays', data: `${name}.bin`, byteOrder: 'little-endian', arrays: [] };
    let offset = 0;
    for (const [key, a] of entries) {
      const size = a.shape.reduce((p, d) => p * d, 1);
      if (size !== a.data.length) throw new Error(`array ${JSON.stringify(key)}: shape [${a.shape}] holds ${size} values, data has ${a.data.length}`);
      const dtype = a.data instanceof Int32Array ? 'int32' : 'float32';
      table.arrays.push({ name: key, shape: [...a.shape], dtype, offset, length: a.data.length });
      offset += a.data.length * 4;
    }
    const bytes = Buffer.alloc(offset);
    entries.forEach(([, a], i) => {
      const start = table.arrays[i].offset;
      for (let j = 0; j < a.data.length; j++) {
        if (a.data instanceof Int32Array) bytes.writeInt32LE(a.data[j], start + j * 4);
        else bytes.writeFloatLE(a.data[j], start + j * 4);
      }
    });
    await this.write(`${name}.bin`, bytes);
    await this.write(`${name}.json`, JSON.stringify(table, null, 1) + '\n');
  }

  /** Saves a layers model as `<name>/model.json` + `<name>/weights.bin` (tfjs's file layout). */
  async saveModel(name: string, model: tf.LayersModel): Promise<void> {
    assertName(name);
    let artifacts: tf.io.ModelArtifacts | undefined;
    await model.save(
      tf.io.withSaveHandler(async (a) => {
        artifacts = a;
        return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
      }),
    );
    if (!artifacts) throw new Error(`saving model ${name}: tfjs produced no artifacts`);
    const weights = artifacts.weightData ? new Uint8Array(joinWeightData(artifacts.weightData)) : new Uint8Array(0);
    const modelJson = {
      format: artifacts.format ?? 'layers-model',
      generatedBy: artifacts.generatedBy,
      convertedBy: artifacts.convertedBy ?? null,
      modelTopology: artifacts.modelTopology,
      ...(artifacts.trainingConfig ? { trainingConfig: artifacts.trainingConfig } : {}),
      weightsManifest: [{ paths: ['weights.bin'], weights: artifacts.weightSpecs ?? [] }],
    };
    await this.write(`${name}/weights.bin`, weights);
    await this.write(`${name}/model.json`, JSON.stringify(modelJson) + '\n');
  }

  /** Saves an optimiser's weights (iterations, moments) and its private scalar variables. */
  async saveOptimizer(name: string, optimizer: tf.Optimizer): Promise<void> {
    assertName(name);
    const weights = await optimizer.getWeights();
    try {
      // Positional names: setWeights restores by position; names only need to be unique.
      const named = weights.map((w, i) => ({ name: `${String(i).padStart(6, '0')}:${w.name}`, tensor: w.tensor }));
      await this.saveTensors(name, named);
    } finally {
      // getWeights() returns the live moment variables and a fresh 'iter' tensor: free only the latter.
      for (const w of weights) if (!(w.tensor instanceof tf.Variable)) w.tensor.dispose();
    }
    const scalars: Record<string, number> = {};
    for (const [key, variable] of Object.entries(scalarVariables(optimizer))) scalars[key] = (await variable.data())[0];
    this.optimizers[name] = { className: optimizer.getClassName(), config: optimizer.getConfig() as Record<string, unknown>, scalars };
  }

  /** Saves a JSON file `<name>.json`. */
  async saveJson(name: string, value: unknown): Promise<void> {
    assertName(name);
    await this.write(`${name}.json`, JSON.stringify(value, null, 2) + '\n');
  }

  /** Sets the job's JSON state stored in the sidecar itself. */
  setState(state: JsonValue): void {
    this.state = state;
  }
}

/** Reads what a checkpoint holds back into a job's state. */
export class CheckpointReader {
  constructor(
    readonly dir: string,
    readonly info: CheckpointInfo,
  ) {}

  /** The job's JSON state from the sidecar. */
  get state(): JsonValue | undefined {
    return this.info.state;
  }

  private file(relative: string): string {
    const file = path.join(this.dir, relative);
    if (!this.info.files.some((f) => f.path === relative)) {
      throw new DamagedRunError(file, `checkpoint ${this.info.name} has no ${relative} (it holds ${this.info.files.map((f) => f.path).join(', ') || 'no files'})`);
    }
    return file;
  }

  /** The tensors saved under `name`; the caller owns (and disposes) them. */
  async loadTensors(name: string): Promise<tf.NamedTensorMap> {
    assertName(name);
    const specsFile = this.file(`${name}.json`);
    const index = readJsonIfExists<{ specs: tf.io.WeightsManifestEntry[] }>(specsFile);
    if (!index || !Array.isArray(index.specs)) throw new DamagedRunError(specsFile, 'should hold { specs: [...] }');
    const bytes = await fs.promises.readFile(this.file(`${name}.bin`));
    return tf.io.decodeWeights(toArrayBuffer(bytes), index.specs);
  }

  /** The host arrays saved under `name`, in the order saved. */
  async loadArrays(name: string): Promise<Map<string, HostArray>> {
    assertName(name);
    const tableFile = this.file(`${name}.json`);
    const table = readJsonIfExists<ArrayTable>(tableFile);
    if (!table || table.format !== 'host-arrays' || !Array.isArray(table.arrays)) throw new DamagedRunError(tableFile, "should hold { format: 'host-arrays', arrays: [...] }");
    const binFile = this.file(`${name}.bin`);
    const bytes = await fs.promises.readFile(binFile);
    const out = new Map<string, HostArray>();
    for (const a of table.arrays) {
      if (a.offset + a.length * 4 > bytes.length) throw new DamagedRunError(binFile, `array ${a.name} ends at byte ${a.offset + a.length * 4}, the file has ${bytes.length}`);
      const data = a.dtype === 'int32' ? new Int32Array(a.length) : new Float32Array(a.length);
      for (let j = 0; j < a.length; j++) data[j] = a.dtype === 'int32' ? bytes.readInt32LE(a.offset + j * 4) : bytes.readFloatLE(a.offset + j * 4);
      out.set(a.name, { shape: a.shape, data });
    }
    return out;
  }

  /** Assigns saved tensors to variables of the same names and shapes. */
  async loadTensorsInto(name: string, targets: Record<string, tf.Variable>): Promise<void> {
    const loaded = await this.loadTensors(name);
    try {
      for (const [key, variable] of Object.entries(targets)) {
        const value = loaded[key];
        if (!value) throw new Error(`checkpoint ${this.info.name}/${name} has no tensor ${JSON.stringify(key)} (it has ${Object.keys(loaded).join(', ')})`);
        if (value.shape.join('x') !== variable.shape.join('x')) {
          throw new Error(`checkpoint ${this.info.name}/${name}: tensor ${key} has shape [${value.shape}], the variable [${variable.shape}]`);
        }
        variable.assign(value);
      }
    } finally {
      tf.dispose(loaded);
    }
  }

  /** Loads a saved layers model. */
  async loadModel(name: string): Promise<tf.LayersModel> {
    assertName(name);
    const jsonFile = this.file(`${name}/model.json`);
    const modelJson = readJsonIfExists<tf.io.ModelJSON>(jsonFile);
    if (!modelJson) throw new DamagedRunError(jsonFile, 'missing');
    const bytes = await fs.promises.readFile(this.file(`${name}/weights.bin`));
    const artifacts = await tf.io.getModelArtifactsForJSON(modelJson, async (manifest) => [
      manifest.flatMap((group) => group.weights),
      toArrayBuffer(bytes),
    ]);
    return tf.loadLayersModel(tf.io.fromMemory(artifacts));
  }

  /** Sets a model's weights from a saved model of the same architecture. */
  async loadModelWeightsInto(name: string, model: tf.LayersModel): Promise<void> {
    const saved = await this.loadModel(name);
    try {
      const weights = saved.getWeights();
      const current = model.getWeights();
      if (weights.length !== current.length) {
        throw new Error(`checkpoint ${this.info.name}/${name} has ${weights.length} weights, the model ${current.length}`);
      }
      weights.forEach((w, i) => {
        if (w.shape.join('x') !== current[i].shape.join('x')) {
          throw new Error(`checkpoint ${this.info.name}/${name}: weight ${i} has shape [${w.shape}], the model's [${current[i].shape}]`);
        }
      });
      model.setWeights(weights);
    } finally {
      saved.dispose();
    }
  }

  /** Restores an optimiser's state into an optimiser of the same class and config. */
  async loadOptimizer(name: string, optimizer: tf.Optimizer): Promise<void> {
    const record = this.info.optimizers[name];
    if (!record) throw new Error(`checkpoint ${this.info.name} has no optimiser ${JSON.stringify(name)} (it has ${Object.keys(this.info.optimizers).join(', ') || 'none'})`);
    if (record.className !== optimizer.getClassName()) {
      throw new Error(`checkpoint ${this.info.name}: optimiser ${name} was a ${record.className}, the job now builds a ${optimizer.getClassName()}`);
    }
    const loaded = await this.loadTensors(name);
    const ordered = Object.keys(loaded)
      .sort()
      .map((key) => ({ name: key.slice(key.indexOf(':') + 1), tensor: loaded[key] }));
    try {
      await optimizer.setWeights(ordered);
    } finally {
      tf.dispose(Object.values(loaded));
    }
    const scalars = scalarVariables(optimizer);
    for (const [key, value] of Object.entries(record.scalars)) {
      const variable = scalars[key];
      if (variable) tf.tidy(() => variable.assign(tf.scalar(value, variable.dtype)));
    }
  }

  /** Reads a JSON file saved with saveJson. */
  readJson<T = unknown>(name: string): T {
    assertName(name);
    const file = this.file(`${name}.json`);
    const value = readJsonIfExists<T>(file);
    if (value === undefined) throw new DamagedRunError(file, 'missing');
    return value;
  }
}
