// Test images made with sharp at run time: no binary fixtures.
import { crc32, deflateSync } from 'node:zlib';
import sharp, { type Sharp } from 'sharp';

/** A diagonal gradient with pseudo-random noise of ±amplitude (0 = smooth, 127 = incompressible). */
export function noisyImage(width: number, height: number, amplitude: number): Sharp {
  const pixels = Buffer.alloc(width * height * 3);
  let seed = 1;
  for (let i = 0; i < pixels.length; i++) {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    const x = (i / 3) % width;
    const y = Math.floor(i / 3 / width);
    const base = ((x + y) / (width + height)) * 200;
    const value = Math.round(base + ((seed >> 16) % (2 * amplitude + 1)) - amplitude);
    pixels[i] = Math.max(0, Math.min(255, value));
  }
  return sharp(pixels, { raw: { width, height, channels: 3 } });
}

export function solid(width: number, height: number, alpha = 1): Sharp {
  return sharp({ create: { width, height, channels: 4, background: { r: 200, g: 60, b: 20, alpha } } });
}

/** An animated image of `frames` differently coloured frames. */
export async function animated(format: 'gif' | 'webp', frames = 3, size = 64): Promise<Buffer> {
  const stills = await Promise.all(
    Array.from({ length: frames }, (_, i) =>
      sharp({ create: { width: size, height: size, channels: 4, background: { r: (i * 40) % 256, g: 40, b: 200, alpha: 1 } } })
        .png()
        .toBuffer(),
    ),
  );
  const joined = sharp(stills, { join: { animated: true } });
  return format === 'gif' ? joined.gif().toBuffer() : joined.webp({ quality: 80 }).toBuffer();
}

/** An animated GIF of noisy frames, which no re-encoding makes tiny. */
export async function noisyAnimation(frames: number, size: number): Promise<Buffer> {
  const stills = await Promise.all(
    Array.from({ length: frames }, (_, i) => noisyImage(size, size, 40 + i).png().toBuffer()),
  );
  return sharp(stills, { join: { animated: true } }).gif().toBuffer();
}

function pngChunk(type: string, data: Buffer): Buffer {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body) >>> 0);
  return Buffer.concat([length, body, crc]);
}

/** A PNG that claims `width`×`height` and holds almost no pixel data (a decompression bomb in a few hundred bytes). */
export function pngHeaderOnly(width: number, height: number): Buffer {
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header[8] = 8;
  header[9] = 2;
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    pngChunk('IHDR', header),
    pngChunk('IDAT', deflateSync(Buffer.alloc(100))),
    pngChunk('IEND', Buffer.alloc(0)),
  ]);
}
