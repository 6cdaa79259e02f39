/**
 * Attention over time (the report's Figure 1): the image, then one panel per generated word
 * with the attention weights over the H' x W' grid of regions laid over the image as a heat
 * map (smoothly upsampled to the image's pixels, one colour scale shared by all words).
 *
 *   const [map] = run.attention('test')!;           // { words, shape: [T, H', W'], alphas }
 *   await lab.show(lab.attentionFigure({ image: await lab.imageDataUri(file), attention: map }));
 *
 * Input: the image (data URI + size, pixels, or [H][W][3] rows), the words, and the weights
 * as [T][H'][W'] nested arrays or a flat T*H'*W' array with its shape.
 */
import { attentionGrid } from '../tracking/artifacts';
import type { AttentionMap } from '../tracking/job';
import { imageUri, type ImageInput } from './image-input';
import type { Figure } from './renderer';

export interface AttentionFigureInput {
  image: ImageInput;
  /** A stored attention map (words, shape, flat alphas) … */
  attention?: Pick<AttentionMap, 'words' | 'shape' | 'alphas'>;
  /** … or the words and [T][H'][W'] weights. */
  words?: string[];
  alphas?: number[][][];
  title?: string;
  /** Panels per row (default 5). */
  columns?: number;
  /** Side of each panel in pixels (default 150). */
  panelSize?: number;
  /** Opacity of the heat map over the image (default 0.6). */
  opacity?: number;
}

/** The words and [T][H'][W'] grids of the input, checked. */
export function attentionGrids(input: AttentionFigureInput): { words: string[]; grids: number[][][] } {
  if (input.attention) {
    const map = input.attention;
    const grids = Array.from({ length: map.shape[0] }, (_, t) => attentionGrid({ imageId: 0, ...map }, t));
    if (map.words.length !== grids.length) throw new Error(`attention has ${grids.length} steps but ${map.words.length} words`);
    return { words: map.words, grids };
  }
  if (!input.words || !input.alphas) throw new Error('attentionFigure needs `attention`, or `words` and `alphas` ([T][H][W])');
  const { words, alphas } = input;
  if (alphas.length !== words.length) throw new Error(`alphas has ${alphas.length} steps but there are ${words.length} words`);
  const H = alphas[0]?.length ?? 0;
  const W = alphas[0]?.[0]?.length ?? 0;
  alphas.forEach((g, t) => {
    if (g.length !== H || g.some((row) => row.length !== W)) throw new Error(`alphas[${t}] is not ${H} x ${W} like alphas[0]`);
  });
  return { words, grids: alphas };
}

/** The image, then one heat-map panel per word. */
export function attentionFigure(input: AttentionFigureInput): Figure {
  const { uri, width, height } = imageUri(input.image);
  const { words, grids } = attentionGrids(input);
  const T = grids.length;
  if (T === 0) throw new Error('no words to show attention for');
  const Hp = grids[0].length;
  const Wp = grids[0][0].length;
  const columns = Math.min(input.columns ?? 5, T + 1);
  const side = input.panelSize ?? 150;
  const titleHeight = 22;
  const gap = 8;
  const rows = Math.ceil((T + 1) / columns);
  const plotWidth = columns * (side + gap);
  const plotHeight = rows * (side + titleHeight + gap);
  const top = 50;
  const zmax = Math.max(...grids.flat(2), 1e-9);
  const fx = (px: number) => px / plotWidth;
  const fy = (px: number) => 1 - px / plotHeight;
  const scale = side / Math.max(width, height);
  const data: Record<string, unknown>[] = [];
  const annotations: Record<string, unknown>[] = [];
  const layout: Record<string, unknown> = {
    title: { text: input.title ?? `Attention over time: ${words.join(' ')}` },
    width: plotWidth + 20,
    height: plotHeight + top + 10,
    margin: { l: 10, r: 10, t: top, b: 10 },
    showlegend: false,
    paper_bgcolor: '#ffffff',
    plot_bgcolor: '#ffffff',
  };
  for (let k = 0; k <= T; k++) {
    const axis = k === 0 ? '' : String(k + 1);
    const col = k % columns;
    const row = Math.floor(k / columns);
    const w = width * scale;
    const h = height * scale;
    const left = col * (side + gap) + (side - w) / 2;
    const imageTop = row * (side + titleHeight + gap) + titleHeight;
    data.push({ type: 'image', source: uri, xaxis: `x${axis}`, yaxis: `y${axis}`, hoverinfo: 'skip' });
    if (k > 0) {
      data.push({
        type: 'heatmap',
        z: grids[k - 1], // [H', W']
        x0: width / Wp / 2 - 0.5,
        dx: width / Wp,
        y0: height / Hp / 2 - 0.5,
        dy: height / Hp,
        zmin: 0,
        zmax,
        zsmooth: 'best',
        colorscale: 'Hot',
        reversescale: false,
        opacity: input.opacity ?? 0.6,
        showscale: k === T,
        colorbar: { title: { text: 'α' }, len: 0.9, thickness: 10, nticks: 4 }, // a short bar with many ticks runs them into each other
        xaxis: `x${axis}`,
        yaxis: `y${axis}`,
        hovertemplate: `${words[k - 1]}<br>α %{z:.3f}<extra></extra>`,
      });
    }
    layout[`xaxis${axis}`] = { domain: [fx(left), fx(left + w)], range: [-0.5, width - 0.5], visible: false, fixedrange: true, anchor: `y${axis}` };
    layout[`yaxis${axis}`] = { domain: [fy(imageTop + h), fy(imageTop)], range: [height - 0.5, -0.5], visible: false, fixedrange: true, anchor: `x${axis}` };
    annotations.push({
      xref: 'paper',
      yref: 'paper',
      x: fx(col * (side + gap) + side / 2),
      y: fy(imageTop - 2),
      xanchor: 'center',
      yanchor: 'bottom',
      text: k === 0 ? '<i>image</i>' : `<b>${escapeText(words[k - 1])}</b>`,
      showarrow: false,
      font: { size: 13 },
    });
  }
  layout.annotations = annotations;
  return { data, layout };
}

function escapeText(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}
