/**
 * What this process runs on: machine, Node, package versions and the compute backend.
 * Printed by `captioning env`, shown in notebooks/00-environment and stored in run records.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

import { initBackend, type BackendChoice } from './backend';

export interface EnvironmentReport {
  node: string;
  platform: string;
  cpus: { model: string; count: number };
  memoryGiB: number;
  packages: Record<string, string>;
  backend: BackendChoice;
}

/** The packages whose versions decide results, as installed. */
const TRACKED_PACKAGES = [
  'captioning-lab',
  '@tensorflow/tfjs',
  '@tensorflow/tfjs-backend-wasm',
  '@tensorflow/tfjs-node',
  '@tensorflow/tfjs-node-gpu',
  'tslab',
  'plotly.js-dist-min',
  'playwright-core',
];

/** The installed version of a package, or 'not installed'. */
export function installedVersion(name: string): string {
  try {
    const file = name === 'captioning-lab' ? path.join(__dirname, '..', '..', 'package.json') : require.resolve(`${name}/package.json`);
    return JSON.parse(fs.readFileSync(file, 'utf8')).version as string;
  } catch {
    return 'not installed';
  }
}

/** Collects the report; selects the backend if that has not happened yet. */
export async function describeEnvironment(): Promise<EnvironmentReport> {
  const backend = await initBackend();
  const cpus = os.cpus();
  return {
    node: process.version,
    platform: `${os.platform()} ${os.release()} ${os.arch()}`,
    cpus: { model: cpus[0]?.model.trim() ?? 'unknown', count: cpus.length },
    memoryGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    packages: Object.fromEntries(TRACKED_PACKAGES.map((name) => [name, installedVersion(name)])),
    backend,
  };
}
