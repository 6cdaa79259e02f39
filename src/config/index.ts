/**
 * The experiment config, the first stage of the data flow: what a run is made of, with
 * every default in one place and errors that name the offending key. Nothing here imports
 * a later stage; every later stage reads its settings (and option lists) from here.
 *
 *   const config = resolveConfig('quick', VARIANTS.bert, parseSettings(['train.epochs=4']));
 *   const fromNotebook = notebookConfig(notebookParameters(), 'baseline');
 */
export * from './types';
export { CAFFE_NORMALISATION, DEFAULT_CONFIG, PROFILE_NAMES, PROFILES, VARIANT_NAMES, VARIANTS, type ProfileName, type VariantName } from './profiles';
export { ruleOf, validateConfig } from './schema';
export { configFromIdentity, dottedOverride, identityConfig, parseSettings, resolveConfig, type IdentityConfig } from './resolve';
export { notebookConfig, notebookParameters, PARAMETER_ENV, type NotebookParameters } from './notebook-parameters';
