// A batch of images as one composite for the job card: tiles in a near-square grid, each numbered in its corner
// (the number the U/V buttons use), encoded to fit the upload limit. The full images stay on ComfyUI.
import sharp from 'sharp';

export interface GridImage {
  bytes: Buffer;
  mime: 'image/jpeg';
  width: number;
  height: number;
}

export interface GridOptions {
  /** The encoded grid must be at most this many bytes. */
  limitBytes: number;
  /** Longest side of the whole grid before any shrinking for the limit. Default 2048. */
  maxSide?: number;
}

const DEFAULT_MAX_SIDE = 2048;
const GAP = 4;
const QUALITY = 85;
/** Each retry for the byte limit shrinks the grid by this factor; below MIN_SIDE it gives up. */
const SHRINK = 0.75;
const MIN_SIDE = 128;

export class GridError extends Error {
  override readonly name = 'GridError';
}

function badge(n: number, size: number): Buffer {
  const r = size / 2;
  const svg =
    `<svg xmlns="http://www.w3.org/2000/svg" width="${size}" height="${size}">` +
    `<circle cx="${r}" cy="${r}" r="${r - 1}" fill="#000000" fill-opacity="0.65" stroke="#ffffff" stroke-width="2"/>` +
    `<text x="50%" y="50%" dy="0.35em" text-anchor="middle" font-family="sans-serif" font-weight="bold" font-size="${Math.round(size * 0.6)}" fill="#ffffff">${n}</text>` +
    '</svg>';
  return Buffer.from(svg);
}

/** The columns and rows for n tiles: 2 → 2×1, 3-4 → 2×2, 5-6 → 3×2, 7-9 → 3×3. */
export function gridShape(count: number): { columns: number; rows: number } {
  const columns = Math.ceil(Math.sqrt(count));
  return { columns, rows: Math.ceil(count / columns) };
}

export async function composeGrid(images: readonly Buffer[], options: GridOptions): Promise<GridImage> {
  if (images.length < 2) throw new GridError(`a grid needs at least 2 images, got ${images.length}`);
  const first = await sharp(images[0]).metadata();
  if (!first.width || !first.height) throw new GridError('the first image has no size');
  const { columns, rows } = gridShape(images.length);
  let side = options.maxSide ?? DEFAULT_MAX_SIDE;
  for (;;) {
    // Tiles keep the first image's aspect ratio; others are fitted inside their tile.
    const scale = Math.min(1, (side - GAP * (columns - 1)) / (first.width * columns), (side - GAP * (rows - 1)) / (first.height * rows));
    const tileWidth = Math.max(1, Math.floor(first.width * scale));
    const tileHeight = Math.max(1, Math.floor(first.height * scale));
    const width = tileWidth * columns + GAP * (columns - 1);
    const height = tileHeight * rows + GAP * (rows - 1);
    const badgeSize = Math.max(16, Math.round(Math.min(tileWidth, tileHeight) * 0.12));
    const tiles = await Promise.all(
      images.map((bytes) => sharp(bytes).resize({ width: tileWidth, height: tileHeight, fit: 'contain', background: '#202225' }).png({ compressionLevel: 0 }).toBuffer()),
    );
    const layers = tiles.flatMap((input, i) => {
      const left = (i % columns) * (tileWidth + GAP);
      const top = Math.floor(i / columns) * (tileHeight + GAP);
      const inset = Math.round(badgeSize * 0.25);
      return [
        { input, left, top },
        { input: badge(i + 1, badgeSize), left: left + inset, top: top + inset },
      ];
    });
    const bytes = await sharp({ create: { width, height, channels: 3, background: '#202225' } })
      .composite(layers)
      .jpeg({ quality: QUALITY })
      .toBuffer();
    if (bytes.length <= options.limitBytes) return { bytes, mime: 'image/jpeg', width, height };
    side = Math.floor(Math.max(width, height) * SHRINK);
    if (side < MIN_SIDE) throw new GridError(`the grid does not fit ${options.limitBytes} bytes even at ${MIN_SIDE} px`);
  }
}
