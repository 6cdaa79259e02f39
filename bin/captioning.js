#!/usr/bin/env -S node --single-threaded-gc
// The `captioning` command: runs the TypeScript CLI through tsx, so no build step is needed.
require('tsx/cjs/api').register();
require('../src/cli/main.ts')
  .main(process.argv)
  .then((code) => {
    process.exitCode = code;
  });
