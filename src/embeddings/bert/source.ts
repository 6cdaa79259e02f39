/**
 * Where a BERT comes from: a local folder (transformers.js layout) or a Hugging Face hub id,
 * and the offline rule. Remote loading is opt-in: `allowRemote: true` or
 * `CAPTIONING_ALLOW_REMOTE_MODELS=1`; without it a hub id loads only when its files are
 * already in the transformers.js cache, and otherwise fails with an error that names the id
 * and says how to get it (RemoteModelsDisabledError).
 *
 *   resolveBertSource('./results/bert/quick/model');          // local (absolute or ./ paths)
 *   resolveBertSource('Xenova/bert-base-uncased', { allowRemote: true });
 */
import * as fs from 'fs';
import * as path from 'path';

/** Set to 1 (or true/yes) to let the embedder download hub models. */
export const REMOTE_MODELS_ENV_VAR = 'CAPTIONING_ALLOW_REMOTE_MODELS';
/** Where downloaded hub models are cached (default: transformers.js's own cache folder). */
export const HF_CACHE_ENV_VAR = 'CAPTIONING_HF_CACHE';

/** The files a folder must hold for the embedder (the fp32 model; `q8` would be model_quantized.onnx). */
export const REQUIRED_MODEL_FILES = ['config.json', 'tokenizer.json', 'tokenizer_config.json', path.join('onnx', 'model.onnx')] as const;

export interface SourceOptions {
  /** Allow downloading from the hub (default: $CAPTIONING_ALLOW_REMOTE_MODELS, else false). */
  allowRemote?: boolean;
  /** transformers.js's cache folder for hub files (default: $CAPTIONING_HF_CACHE, else transformers.js's `env.cacheDir`). */
  hubCacheDir?: string;
}

export interface BertSource {
  kind: 'local' | 'hub';
  /** What the user asked for. */
  request: string;
  /** The name given to transformers.js: an absolute folder, or the hub id. */
  loadName: string;
  /** The folder the files are (or will be) in. */
  folder: string;
  /** Whether transformers.js may download (hub ids with remote loading allowed only). */
  remote: boolean;
  /** The cache folder passed to transformers.js for hub ids. */
  cacheDir: string | null;
}

/** A hub model was asked for while remote loading is off. */
export class RemoteModelsDisabledError extends Error {
  constructor(readonly modelId: string, cacheFolder: string) {
    super(
      `BERT model ${JSON.stringify(modelId)} is a Hugging Face hub id, it is not in the local cache (${cacheFolder}), and remote loading is off. ` +
        `On a machine with network access set ${REMOTE_MODELS_ENV_VAR}=1 (or pass allowRemote: true) to download it once; ` +
        `offline, pass the path of a local folder (absolute or starting with ./) holding ${REQUIRED_MODEL_FILES.join(', ')}, e.g. the project's own BERT, bertModelDir(run.dir) of a bertPretrainingJob run.`,
    );
    this.name = 'RemoteModelsDisabledError';
  }
}

/** Whether the environment allows remote loading. */
export function remoteAllowedByEnv(env: NodeJS.ProcessEnv = process.env): boolean {
  const raw = (env[REMOTE_MODELS_ENV_VAR] ?? '').trim().toLowerCase();
  if (raw === '' || raw === '0' || raw === 'false' || raw === 'no') return false;
  if (raw === '1' || raw === 'true' || raw === 'yes') return true;
  throw new Error(`${REMOTE_MODELS_ENV_VAR}=${JSON.stringify(env[REMOTE_MODELS_ENV_VAR])}: use 1 (allow downloads) or 0`);
}

/** transformers.js's notion of a hub id (`owner/name` or `name`). */
export function isHubId(name: string): boolean {
  return /^(\b[\w\-.]+\b\/)?\b[\w\-.]{1,96}\b$/.test(name) && !name.includes('..') && !name.includes('--');
}

function missingFiles(folder: string): string[] {
  return REQUIRED_MODEL_FILES.filter((f) => !fs.existsSync(path.join(folder, f)));
}

/**
 * Resolves a model name: an existing folder (or a name starting with `/`, `./`, `../`) is
 * local; anything else must be a hub id.
 */
export function resolveBertSource(request: string, options: SourceOptions & { defaultCacheDir?: string | null } = {}): BertSource {
  if (typeof request !== 'string' || request.trim() === '') throw new Error(`BERT model: expected a hub id or a folder, got ${JSON.stringify(request)}`);
  const looksLocal = path.isAbsolute(request) || request.startsWith('./') || request.startsWith('../') || request.startsWith('.\\');
  const resolved = path.resolve(request);
  if (looksLocal || (fs.existsSync(resolved) && fs.statSync(resolved).isDirectory())) {
    if (!fs.existsSync(resolved)) throw new Error(`BERT model folder ${resolved} does not exist`);
    const missing = missingFiles(resolved);
    if (missing.length > 0) throw new Error(`BERT model folder ${resolved} lacks ${missing.join(', ')} (transformers.js needs ${REQUIRED_MODEL_FILES.join(', ')})`);
    return { kind: 'local', request, loadName: resolved, folder: resolved, remote: false, cacheDir: null };
  }
  if (!isHubId(request)) throw new Error(`BERT model ${JSON.stringify(request)} is neither a folder nor a hub id such as Xenova/bert-base-uncased`);
  const cacheDir = options.hubCacheDir ?? process.env[HF_CACHE_ENV_VAR] ?? options.defaultCacheDir ?? null;
  const folder = cacheDir ? path.join(cacheDir, request) : request;
  const cached = cacheDir !== null && missingFiles(folder).length === 0;
  const allowRemote = options.allowRemote ?? remoteAllowedByEnv();
  if (!cached && !allowRemote) throw new RemoteModelsDisabledError(request, folder);
  return { kind: 'hub', request, loadName: request, folder, remote: allowRemote && !cached, cacheDir };
}
