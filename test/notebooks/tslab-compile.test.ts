// Notebook cells are compiled by tslab's own TypeScript (5.0, ES2020 library, CommonJS, and
// *not* strict), which also compiles every src/ file a cell imports. A construct that only type
// checks under our strict tsconfig (e.g. narrowing on a `false` literal, which needs
// strictNullChecks) breaks every notebook, so src/ is compiled here the way tslab does.
import { strict as assert } from 'node:assert';
import * as path from 'node:path';
import { test } from 'node:test';

const ROOT = path.resolve(__dirname, '..', '..');

test("src/index.ts and everything it imports compile under tslab's compiler settings", () => {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const ts = require('@tslab/typescript-for-tslab') as typeof import('typescript');
  const program = ts.createProgram([path.join(ROOT, 'src', 'index.ts')], {
    // The options tslab 1.0.22 passes (node_modules/tslab/dist/converter.js).
    module: ts.ModuleKind.ESNext,
    moduleResolution: ts.ModuleResolutionKind.Node10,
    esModuleInterop: true,
    target: ts.ScriptTarget.ES2020,
    lib: ['lib.es2020.d.ts'],
    declaration: true,
    experimentalDecorators: true,
    resolveJsonModule: true,
    skipLibCheck: true,
    noEmit: true,
    types: ['node'],
    typeRoots: [path.join(ROOT, 'node_modules', '@types')],
  });
  const diagnostics = ts
    .getPreEmitDiagnostics(program)
    .filter((d) => d.file === undefined || !d.file.fileName.includes('node_modules'))
    .map((d) => {
      const where = d.file && d.start !== undefined ? `${path.relative(ROOT, d.file.fileName)}:${d.file.getLineAndCharacterOfPosition(d.start).line + 1}` : '';
      return `${where} ${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`;
    });
  assert.equal(ts.version.split('.')[0], '5');
  assert.deepEqual(diagnostics, []);
});
