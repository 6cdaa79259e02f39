// The committed report opens as a reproduction report (issue #19): in Chromium at 1280 x 900,
// the first screen holds the summary and the whole claims table.
import { strict as assert } from 'node:assert';
import * as path from 'node:path';
import { test } from 'node:test';

import { chromium } from 'playwright-core';

import { findChromium } from '../../src/viz/renderer';

const INDEX = path.resolve(__dirname, '..', '..', 'report', 'index.html');

test("report/index.html's first screen (1280 x 900) shows the summary and the claims table", async () => {
  const browser = await chromium.launch({ executablePath: findChromium(), headless: true, args: ['--no-sandbox', '--disable-gpu'] });
  try {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    await page.goto(`file://${INDEX}`);
    const layout = (await page.evaluate(`(() => {
      const headings = [...document.querySelectorAll('h2')].map((h) => ({ text: h.textContent, top: h.getBoundingClientRect().top }));
      const claims = [...document.querySelectorAll('table')].find((t) => t.querySelector('th') && t.querySelector('th').textContent === 'claim');
      return { headings, claimsBottom: claims ? claims.getBoundingClientRect().bottom : null, images: [...document.images].map((i) => i.src.slice(0, 22)) };
    })()`)) as { headings: { text: string; top: number }[]; claimsBottom: number | null; images: string[] };
    assert.deepEqual(layout.headings.slice(0, 2).map((h) => h.text), ['Summary', 'Claims']);
    assert.ok(layout.claimsBottom !== null, 'a claims table');
    assert.ok(layout.claimsBottom <= 900, `the claims table ends at ${layout.claimsBottom} px, inside the first screen`);
    assert.ok(layout.images.length > 0 && layout.images.every((src) => src === 'data:image/png;base64,'), 'every figure inside the page');
  } finally {
    await browser.close();
  }
});
