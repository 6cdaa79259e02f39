// The notebooks are committed executed: every code cell ran, none failed, and figures are
// saved as PNG (so GitHub and nbconvert show them without the plotly extension).
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';

import { listNotebooks } from '../../src/notebooks/runner';

const NOTEBOOKS = path.resolve(__dirname, '..', '..', 'notebooks');

interface Cell {
  cell_type: string;
  execution_count?: number | null;
  source: string | string[];
  outputs?: { output_type: string; name?: string; data?: Record<string, unknown>; text?: string | string[] }[];
}

for (const file of listNotebooks(NOTEBOOKS)) {
  test(`${path.basename(file)} is committed executed, without errors, with its figures as PNG`, () => {
    const notebook = JSON.parse(fs.readFileSync(file, 'utf8')) as { cells: Cell[]; metadata: { kernelspec?: { name?: string } } };
    assert.equal(notebook.metadata.kernelspec?.name, 'captioning-lab', 'runs on the project kernel');
    const code = notebook.cells.filter((c) => c.cell_type === 'code');
    assert.ok(code.length > 0);
    code.forEach((cell, i) => {
      assert.equal(typeof cell.execution_count, 'number', `code cell ${i + 1} was not executed`);
      assert.ok(!(cell.outputs ?? []).some((o) => o.output_type === 'error'), `code cell ${i + 1} has an error output`);
    });
    const figures = code.flatMap((c) => c.outputs ?? []).filter((o) => o.data?.['application/vnd.plotly.v1+json']);
    for (const figure of figures) assert.ok(figure.data?.['image/png'], 'every plotly figure carries its PNG');
    if (path.basename(file) === '00-environment.ipynb') assert.equal(figures.length, 1, '00-environment shows one figure');
  });
}
