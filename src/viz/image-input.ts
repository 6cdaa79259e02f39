/**
 * Images as figure builders take them: a data URI with its size (what
 * `imageDataUri` of src/data/images.ts returns), pixels (`{ width, height, channels, data }`,
 * row-major bytes), or nested rows of RGB triples `[H][W][3]`.
 */
import { checkPixels, pngDataUri, type Pixels } from './png';

export type ImageInput = { uri: string; width: number; height: number } | Pixels | { rgb: number[][][] };

/** An image as a data URI with its pixel size. */
export function imageUri(image: ImageInput): { uri: string; width: number; height: number } {
  if ('uri' in image) {
    if (!image.uri.startsWith('data:image/')) throw new Error(`image uri should be a data:image/… URI, got ${JSON.stringify(image.uri.slice(0, 30))}`);
    return image;
  }
  if ('rgb' in image) {
    const height = image.rgb.length;
    const width = height > 0 ? image.rgb[0].length : 0;
    const data: number[] = [];
    image.rgb.forEach((row, y) => {
      if (row.length !== width) throw new Error(`image row ${y} has ${row.length} pixels, row 0 has ${width}`);
      for (const px of row) data.push(px[0], px[1], px[2]);
    });
    return { uri: pngDataUri({ width, height, channels: 3, data }), width, height };
  }
  checkPixels(image);
  return { uri: pngDataUri(image), width: image.width, height: image.height };
}
