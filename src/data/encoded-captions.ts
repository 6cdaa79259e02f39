/**
 * Captions of whole splits encoded as id rows with a vocabulary, applying its overLength
 * policy, and packed into typed arrays (`EncodedCaptions`), with what encoding them counted.
 *
 *   const train = encodeCaptions(dataset, vocab, 'train');
 *   rowCount(train);                                   // rows encoded
 *   train.ids.subarray(train.offsets[0], train.offsets[1]); // row 0: <start>, words, <end>
 *   train.report;                                      // { captions, encoded, truncated, skipped, tokens, unknown }
 */
import { type DatasetImage, type Split } from './dataset';
import { UNK_ID, type Vocabulary } from './vocabulary';

/**
 * Captions of some splits encoded as ids, packed row after row (compressed sparse rows:
 * 616k COCO captions take about 30 MB, not 616k small arrays).
 * Row r holds `ids[offsets[r] .. offsets[r+1])`: `<start>`, words, `<end>`.
 */
export interface EncodedCaptions {
  /** Vocabulary fingerprint the ids belong to. */
  vocabulary: string;
  splits: Split[];
  /** Index into dataset.images of every row. */
  image: Int32Array; // [N]
  /** Index of the caption within its image of every row. */
  caption: Int32Array; // [N]
  offsets: Int32Array; // [N + 1]
  ids: Int32Array; // [offsets[N]]
  report: EncodeReport;
}

export interface EncodeReport {
  /** Captions of the splits. */
  captions: number;
  /** Rows encoded. */
  encoded: number;
  /** Captions longer than maxLength, cut (policy 'truncate'). */
  truncated: number;
  /** Captions longer than maxLength, left out (policy 'skip'). */
  skipped: number;
  /** Word tokens encoded, and how many of them became `<unk>`. */
  tokens: number;
  unknown: number;
}

/** Number of rows of encoded captions. */
/** The rows as id arrays (`<start>` … `<end>`), views into `ids` (no copy). */
export function captionRows(encoded: EncodedCaptions): Int32Array[] {
  const rows: Int32Array[] = [];
  for (let r = 0; r + 1 < encoded.offsets.length; r++) rows.push(encoded.ids.subarray(encoded.offsets[r], encoded.offsets[r + 1]));
  return rows;
}

export function rowCount(encoded: EncodedCaptions): number {
  return encoded.image.length;
}

/** Length of row r in ids (`<start>` and `<end>` included). */
export function rowLength(encoded: EncodedCaptions, row: number): number {
  return encoded.offsets[row + 1] - encoded.offsets[row];
}

/** Encodes the captions of the given splits, applying the vocabulary's overLength policy. */
export function encodeCaptions(
  dataset: { images: readonly DatasetImage[] },
  vocab: Vocabulary,
  splits: Split | Split[],
): EncodedCaptions {
  const wanted = new Set<Split>(Array.isArray(splits) ? splits : [splits]);
  const { maxLength, overLength } = vocab.options;
  const image: number[] = [];
  const caption: number[] = [];
  const offsets: number[] = [0];
  const ids: number[] = [];
  const report: EncodeReport = { captions: 0, encoded: 0, truncated: 0, skipped: 0, tokens: 0, unknown: 0 };
  dataset.images.forEach((img, i) => {
    if (!wanted.has(img.split)) return;
    img.captions.forEach((c, j) => {
      report.captions += 1;
      if (c.tokens.length > maxLength) {
        if (overLength === 'skip') {
          report.skipped += 1;
          return;
        }
        report.truncated += 1;
      }
      const row = vocab.encode(c.tokens);
      for (const id of row) ids.push(id);
      report.tokens += row.length - 2;
      for (let k = 1; k < row.length - 1; k++) if (row[k] === UNK_ID) report.unknown += 1;
      image.push(i);
      caption.push(j);
      offsets.push(ids.length);
      report.encoded += 1;
    });
  });
  return {
    vocabulary: vocab.fingerprint,
    splits: [...wanted],
    image: Int32Array.from(image),
    caption: Int32Array.from(caption),
    offsets: Int32Array.from(offsets),
    ids: Int32Array.from(ids),
    report,
  };
}
