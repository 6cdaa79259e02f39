/**
 * captioning-lab: the notebooks' one door into the library.
 *
 *   import * as lab from '../src';
 *   const backend = await lab.initBackend();   // before creating any tensor
 *   await lab.show(figure);                     // plotly figure inline, with a PNG
 */
export * as tf from '@tensorflow/tfjs';

export { initBackend, describeBackendChoice, BACKEND_KINDS, BACKEND_ENV_VAR } from './compute/backend';
export type { BackendChoice, BackendKind } from './compute/backend';
export { describeEnvironment } from './compute/environment';
export type { EnvironmentReport } from './compute/environment';
export { show, exportFigure } from './viz/display';
export { closeRenderer } from './viz/renderer';
export type { Figure } from './viz/renderer';
