/**
 * Static rendering of plotly figures (PNG, SVG) in headless Chromium.
 *
 * One browser and one page serve every figure of a process: the first figure costs the
 * browser start (about 3.5 s), each next one about 50 ms. plotly.js is read from
 * node_modules and injected into a blank page; nothing is fetched from the network.
 *
 * The browser is `CAPTIONING_CHROMIUM` when set, else the first of the usual Chromium and
 * Chrome paths that exists. Install one with `apt-get install chromium` (Debian/Ubuntu).
 */
import * as fs from 'fs';
import * as path from 'path';
import type { Browser, Page } from 'playwright-core';

/** A plotly figure as plotly.js takes it. */
export interface Figure {
  data: Record<string, unknown>[];
  layout?: Record<string, unknown>;
  config?: Record<string, unknown>;
}

export type ImageFormat = 'png' | 'svg';

export interface RenderOptions {
  format: ImageFormat;
  /** Pixels; defaults to the layout's width/height, else 800 x 500. */
  width?: number;
  height?: number;
  /** PNG pixel density; 2 gives crisp figures on high-DPI screens and in reports. */
  scale?: number;
}

export const CHROMIUM_ENV_VAR = 'CAPTIONING_CHROMIUM';

const CHROMIUM_CANDIDATES = [
  '/usr/bin/chromium',
  '/usr/bin/chromium-browser',
  '/usr/bin/google-chrome',
  '/usr/bin/google-chrome-stable',
  '/Applications/Google Chrome.app/Contents/MacOS/Google Chrome',
  '/Applications/Chromium.app/Contents/MacOS/Chromium',
];

/** Flags that keep a headless Chromium off the network and quiet in containers. */
const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-quic',
  '--disable-dev-shm-usage',
];

/** The Chromium binary to use, or an error that says how to get one. */
export function findChromium(env: NodeJS.ProcessEnv = process.env): string {
  const configured = env[CHROMIUM_ENV_VAR];
  if (configured) {
    if (!fs.existsSync(configured)) {
      throw new Error(`${CHROMIUM_ENV_VAR}=${configured}: no such file`);
    }
    return configured;
  }
  const found = CHROMIUM_CANDIDATES.find((p) => fs.existsSync(p));
  if (!found) {
    throw new Error(
      `no Chromium found (looked for ${CHROMIUM_CANDIDATES.join(', ')}); ` +
        `install it (apt-get install chromium) or set ${CHROMIUM_ENV_VAR} to a Chrome/Chromium binary`,
    );
  }
  return found;
}

/** The plotly.js bundle shipped in node_modules. */
export function plotlyBundlePath(): string {
  return path.join(path.dirname(require.resolve('plotly.js-dist-min/package.json')), 'plotly.min.js');
}

interface Session {
  browser: Browser;
  page: Page;
}

let session: Promise<Session> | undefined;

async function openSession(): Promise<Session> {
  const { chromium } = await import('playwright-core');
  const browser = await chromium.launch({ executablePath: findChromium(), headless: true, args: CHROMIUM_ARGS });
  try {
    const page = await browser.newPage();
    await page.setContent('<!doctype html><html><body><div id="figure"></div></body></html>');
    await page.addScriptTag({ path: plotlyBundlePath() });
    return { browser, page };
  } catch (error) {
    await browser.close();
    throw error;
  }
}

function getSession(): Promise<Session> {
  if (!session) {
    session = openSession();
    session.catch(() => {
      session = undefined;
    });
  }
  return session;
}

/**
 * Renders a figure: PNG bytes or SVG text. Figures render one at a time on the shared page.
 */
export async function renderFigure(figure: Figure, options: RenderOptions): Promise<Buffer> {
  const { page } = await getSession();
  const layout = figure.layout ?? {};
  const width = options.width ?? (typeof layout.width === 'number' ? layout.width : 800);
  const height = options.height ?? (typeof layout.height === 'number' ? layout.height : 500);
  const request = { figure, format: options.format, width, height, scale: options.scale ?? 1 };
  const dataUrl = await queue(() =>
    page.evaluate(async ({ figure, format, width, height, scale }) => {
      // Runs in the page, where plotly.js defined the global `Plotly`: Node's types know no
      // such global, so it is checked here (no named helpers: only this function reaches the page).
      const scope: object = globalThis;
      const plotly = 'Plotly' in scope ? scope.Plotly : undefined;
      if (typeof plotly !== 'object' || plotly === null || !('toImage' in plotly) || typeof plotly.toImage !== 'function') {
        throw new Error('plotly.js is not loaded in the rendering page');
      }
      const url: unknown = await plotly.toImage(figure, { format, width, height, scale });
      if (typeof url !== 'string') throw new Error(`plotly.toImage returned a ${typeof url}, not a data URL`);
      return url;
    }, request),
  );
  return decodeDataUrl(dataUrl, options.format);
}

/** A text element of a rendered figure: its text and its four corners in figure pixels (rotation kept). */
export interface TextBox {
  text: string;
  /** [x, y] corners in order around the box, from the figure's top left. */
  corners: [number, number][];
}

/**
 * The text elements of an SVG figure as Chromium lays them out: each one's corners (its box
 * in its own coordinates, through its transform to the figure's, so rotated tick labels stay
 * rotated boxes) and the figure's size. Empty, hidden or transparent texts are left out.
 */
export async function measureSvgText(svg: string): Promise<{ width: number; height: number; texts: TextBox[] }> {
  const { page } = await getSession();
  return queue(() => page.evaluate(`(${MEASURE_TEXT_IN_PAGE})(${JSON.stringify(svg)})`)) as Promise<{ width: number; height: number; texts: TextBox[] }>;
}

/** measureSvgText's page side, as source text: it runs in Chromium's page, and this project compiles without the DOM's types. */
const MEASURE_TEXT_IN_PAGE = `(markup) => {
  const host = document.createElement('div');
  host.innerHTML = markup;
  document.body.appendChild(host);
  try {
    const root = host.querySelector('svg');
    if (!root) throw new Error('no <svg> element in the figure');
    const rootBox = root.getBoundingClientRect();
    const shown = (el) => {
      for (let e = el; e && e !== root; e = e.parentElement) {
        const style = getComputedStyle(e);
        if (style.display === 'none' || style.visibility === 'hidden' || Number(style.opacity) === 0) return false;
      }
      return true;
    };
    const texts = [...root.querySelectorAll('text')].flatMap((t) => {
      const text = (t.textContent || '').trim();
      if (!text || !shown(t) || Number(getComputedStyle(t).fillOpacity) === 0) return [];
      const box = t.getBBox();
      const matrix = t.getScreenCTM();
      if (!matrix || box.width === 0 || box.height === 0) return [];
      const corner = (x, y) => {
        const p = new DOMPoint(x, y).matrixTransform(matrix);
        return [p.x - rootBox.left, p.y - rootBox.top];
      };
      return [{ text, corners: [corner(box.x, box.y), corner(box.x + box.width, box.y), corner(box.x + box.width, box.y + box.height), corner(box.x, box.y + box.height)] }];
    });
    return { width: rootBox.width, height: rootBox.height, texts };
  } finally {
    host.remove();
  }
}`;

let tail: Promise<unknown> = Promise.resolve();

/** Runs page work strictly one at a time. */
function queue<T>(work: () => Promise<T>): Promise<T> {
  const next = tail.then(work, work);
  tail = next.catch(() => undefined);
  return next;
}

function decodeDataUrl(dataUrl: string, format: ImageFormat): Buffer {
  const comma = dataUrl.indexOf(',');
  const header = dataUrl.slice(0, comma);
  const body = dataUrl.slice(comma + 1);
  if (format === 'png') {
    if (!header.startsWith('data:image/png;base64')) throw new Error(`plotly returned ${header}, not a PNG`);
    return Buffer.from(body, 'base64');
  }
  if (!header.startsWith('data:image/svg+xml')) throw new Error(`plotly returned ${header}, not an SVG`);
  return Buffer.from(header.includes('base64') ? Buffer.from(body, 'base64').toString('utf8') : decodeURIComponent(body), 'utf8');
}

/** Closes the shared browser; the next render starts a new one. */
export async function closeRenderer(): Promise<void> {
  const current = session;
  session = undefined;
  if (current) {
    const { browser } = await current.catch(() => ({ browser: undefined }));
    await browser?.close();
  }
}
