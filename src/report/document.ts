/**
 * The report as a list of blocks (headings, paragraphs, tables, figures, lists), rendered
 * once to Markdown (report/README.md, read on GitHub) and once to HTML (report/index.html,
 * opened in a browser), so that both always say the same. Inline text may use `code` and
 * [links](url); nothing else of Markdown is interpreted.
 */
import { escapeHtml, formatCell, type TableCell } from '../viz/tables';

export type Block =
  | { kind: 'heading'; level: 1 | 2 | 3; text: string }
  | { kind: 'paragraph'; text: string }
  | { kind: 'table'; columns: string[]; rows: TableCell[][]; caption?: string }
  | { kind: 'figure'; png: string; svg?: string; caption: string }
  | { kind: 'list'; items: string[] };

function markdownCell(v: TableCell): string {
  return formatCell(v).replace(/\|/g, '\\|').replace(/\n/g, ' ');
}

/** Markdown text of the blocks. */
export function toMarkdown(blocks: readonly Block[]): string {
  const out: string[] = [];
  for (const b of blocks) {
    switch (b.kind) {
      case 'heading':
        out.push(`${'#'.repeat(b.level)} ${b.text}`);
        break;
      case 'paragraph':
        out.push(b.text);
        break;
      case 'table': {
        if (b.caption) out.push(b.caption, '');
        out.push(`| ${b.columns.map((c) => markdownCell(c)).join(' | ')} |`);
        out.push(`|${b.columns.map((_, i) => (b.rows.length > 0 && b.rows.every((r) => typeof r[i] === 'number' || r[i] === null) ? '---:' : '---')).join('|')}|`);
        for (const r of b.rows) out.push(`| ${r.map(markdownCell).join(' | ')} |`);
        break;
      }
      case 'figure':
        out.push(`![${b.caption.replace(/[[\]]/g, '')}](${b.png})`, '', `*${b.caption}*${b.svg ? ` ([SVG](${b.svg}))` : ''}`);
        break;
      case 'list':
        out.push(...b.items.map((i) => `- ${i}`));
        break;
      default: {
        const never: never = b;
        throw new Error(`unknown block ${JSON.stringify(never)}`);
      }
    }
    out.push('');
  }
  return out.join('\n');
}

/** Inline Markdown (`code`, [text](url)) to HTML, everything else escaped. */
export function inlineHtml(text: string): string {
  return escapeHtml(text)
    .replace(/`([^`]+)`/g, '<code>$1</code>')
    .replace(/\[([^\]]+)\]\(([^)\s]+)\)/g, '<a href="$2">$1</a>')
    .replace(/\*\*([^*]+)\*\*/g, '<strong>$1</strong>');
}

const STYLE = `body{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;color:#222;line-height:1.45}
table{border-collapse:collapse;margin:0.5em 0 1.2em;font-size:0.9em}th,td{border:1px solid #ccc;padding:3px 8px}th{background:#f3f3f3}
td.num{text-align:right;font-variant-numeric:tabular-nums}code{background:#f3f3f3;padding:0 3px}figure{margin:1em 0}img{max-width:100%}
figcaption{font-style:italic;color:#555}caption{text-align:left;color:#555;padding-bottom:4px}`;

/**
 * A standalone HTML page of the blocks. `inline` turns a figure's PNG path into the image's
 * data (a `data:` URI) so that the page carries its figures; a figure it has no data for keeps
 * its path.
 */
export function toHtml(blocks: readonly Block[], title: string, inline: (png: string) => string | undefined = () => undefined): string {
  const body: string[] = [];
  for (const b of blocks) {
    switch (b.kind) {
      case 'heading':
        body.push(`<h${b.level}>${inlineHtml(b.text)}</h${b.level}>`);
        break;
      case 'paragraph':
        body.push(`<p>${inlineHtml(b.text)}</p>`);
        break;
      case 'table': {
        const head = b.columns.map((c) => `<th>${escapeHtml(c)}</th>`).join('');
        const rows = b.rows
          .map((r) => `<tr>${r.map((v) => `<td${typeof v === 'number' ? ' class="num"' : ''}>${inlineHtml(formatCell(v))}</td>`).join('')}</tr>`)
          .join('\n');
        body.push(`<table>${b.caption ? `<caption>${inlineHtml(b.caption)}</caption>` : ''}<thead><tr>${head}</tr></thead><tbody>\n${rows}\n</tbody></table>`);
        break;
      }
      case 'figure':
        body.push(
          `<figure><img src="${escapeHtml(inline(b.png) ?? b.png)}" alt="${escapeHtml(b.caption)}"><figcaption>${inlineHtml(b.caption)}${b.svg ? ` (<a href="${escapeHtml(b.svg)}">SVG</a>)` : ''}</figcaption></figure>`,
        );
        break;
      case 'list':
        body.push(`<ul>\n${b.items.map((i) => `<li>${inlineHtml(i)}</li>`).join('\n')}\n</ul>`);
        break;
      default: {
        const never: never = b;
        throw new Error(`unknown block ${JSON.stringify(never)}`);
      }
    }
  }
  return `<!doctype html>\n<html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)}</title><style>${STYLE}</style></head>\n<body>\n${body.join('\n')}\n</body></html>\n`;
}
