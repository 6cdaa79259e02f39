/**
 * The parameters every notebook starts with (its cell tagged `parameters`, papermill's
 * convention), readable from environment variables so that CI and users switch profile,
 * data, BERT or device without editing a notebook:
 *
 *   CAPTIONING_PROFILE   quick (default: the embedded scenes, CPU) | paper (COCO, GPU)
 *   CAPTIONING_DATA      the Karpathy split file (dataset_coco.json), or a scenes folder
 *   CAPTIONING_IMAGES    the folder the split file's image paths are relative to (COCO)
 *   CAPTIONING_BERT      'pretrain' (the project's own BERT) | a hub id | a local folder
 *   CAPTIONING_BACKEND   node-gpu | node | wasm | cpu (default: the fastest that loads)
 *   CAPTIONING_SET       more config settings, "train.epochs=4 decoder.hidden=128"
 *
 *   const params = lab.notebookParameters();                  // in the parameters cell
 *   const config = lab.notebookConfig(params, 'bert');        // the profile + variant + data + settings
 *
 *   CAPTIONING_PROFILE=paper CAPTIONING_DATA=data/coco/dataset_coco.json npm run notebooks -- notebooks/05-bleu-comparison.ipynb
 */
import { BACKEND_KINDS, type BackendKind } from '../compute/backend';
import { PROFILE_NAMES, type ProfileName, VARIANTS, type VariantName } from './profiles';
import { parseSettings, resolveConfig } from './resolve';
import type { CaptionerConfig, ConfigOverride } from './types';

export interface NotebookParameters {
  profile: ProfileName;
  /** Dataset location (null: the profile's). */
  data: string | null;
  /** Images root of a split file (null: the profile's, or the file's folder). */
  images: string | null;
  /** The BERT of the `bert` variant (null: the profile's: 'pretrain' for quick, bert-base for paper). */
  bert: string | null;
  /** The tfjs backend (null: the fastest that loads; also read by initBackend from CAPTIONING_BACKEND). */
  device: BackendKind | null;
  /** Extra `key=value` config settings, applied last. */
  set: string[];
}

export const PARAMETER_ENV = {
  profile: 'CAPTIONING_PROFILE',
  data: 'CAPTIONING_DATA',
  images: 'CAPTIONING_IMAGES',
  bert: 'CAPTIONING_BERT',
  device: 'CAPTIONING_BACKEND',
  set: 'CAPTIONING_SET',
} as const;

function fromEnv(env: NodeJS.ProcessEnv, name: string): string | undefined {
  const value = env[name]?.trim();
  return value === undefined || value === '' ? undefined : value;
}

/** The notebook's parameters: `defaults` (the cell's own values), overridden by the environment; checked, naming the bad variable. */
export function notebookParameters(defaults: Partial<NotebookParameters> = {}, env: NodeJS.ProcessEnv = process.env): NotebookParameters {
  const profile = fromEnv(env, PARAMETER_ENV.profile) ?? defaults.profile ?? 'quick';
  if (!(PROFILE_NAMES as readonly string[]).includes(profile)) throw new Error(`${PARAMETER_ENV.profile}=${JSON.stringify(profile)} is not a profile; use one of ${PROFILE_NAMES.join(', ')}`);
  const device = fromEnv(env, PARAMETER_ENV.device) ?? defaults.device ?? null;
  if (device !== null && !(BACKEND_KINDS as readonly string[]).includes(device)) throw new Error(`${PARAMETER_ENV.device}=${JSON.stringify(device)} is not a backend; use one of ${BACKEND_KINDS.join(', ')}`);
  const setEnv = fromEnv(env, PARAMETER_ENV.set);
  const set = [...(defaults.set ?? []), ...(setEnv ? setEnv.split(/\s+/) : [])];
  parseSettings(set); // fail here, naming the bad key, rather than in a later cell
  return {
    profile: profile as ProfileName,
    data: fromEnv(env, PARAMETER_ENV.data) ?? defaults.data ?? null,
    images: fromEnv(env, PARAMETER_ENV.images) ?? defaults.images ?? null,
    bert: fromEnv(env, PARAMETER_ENV.bert) ?? defaults.bert ?? null,
    device: device as BackendKind | null,
    set,
  };
}

/** The config of one model of a notebook: profile, variant, the parameters' data and BERT, the notebook's own overrides, then `set`. */
export function notebookConfig(params: NotebookParameters, variant: VariantName = 'baseline', ...overrides: (ConfigOverride | Record<string, unknown>)[]): CaptionerConfig {
  const located: Record<string, unknown> = {};
  if (params.data !== null) located.data = { dir: params.data, ...(params.images !== null ? { imagesRoot: params.images } : {}) };
  else if (params.images !== null) located.data = { imagesRoot: params.images };
  if (params.bert !== null) located.words = { bert: { model: params.bert } };
  return resolveConfig(params.profile, VARIANTS[variant], located, ...overrides, parseSettings(params.set));
}
