import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { inspectImageInput, type ImageInputLimits } from '../../src/media/input.js';
import { animated, noisyImage, pngHeaderOnly, solid } from './images.js';

const MB = 1024 * 1024;
const limits: ImageInputLimits = { maxBytes: 20 * MB, maxPixels: 16 * MB };

describe('inspectImageInput', () => {
  it('re-encodes a rotated JPEG once: upright, without metadata, still a JPEG (never a PNG of a photo)', async () => {
    // 40×20 stored with EXIF orientation 6 (rotate 90° clockwise to display): upright it is 20×40.
    const jpeg = await noisyImage(40, 20, 3).jpeg().withMetadata({ orientation: 6 }).toBuffer();
    const result = await inspectImageInput(jpeg, limits);
    expect(result).toMatchObject({ ok: true, width: 20, height: 40, format: 'jpeg', stored: 'jpeg', mime: 'image/jpeg', original: false });
    if (!result.ok) throw new Error(result.reason);
    const meta = await sharp(result.bytes).metadata();
    expect([meta.format, meta.width, meta.height, meta.orientation, meta.exif]).toEqual(['jpeg', 20, 40, undefined, undefined]);
  });

  it('keeps an upright PNG, JPEG or WebP byte for byte in its pixels, with its metadata stripped', async () => {
    const exif = { IFD0: { Copyright: 'secret place', Artist: 'someone' } };
    for (const format of ['png', 'jpeg', 'webp'] as const) {
      const sent = await noisyImage(48, 32, 9).toFormat(format).withExif(exif).toBuffer();
      expect((await sharp(sent).metadata()).exif).toBeDefined();
      const result = await inspectImageInput(sent, limits);
      expect(result).toMatchObject({ ok: true, format, stored: format, original: true, width: 48, height: 32 });
      if (!result.ok) throw new Error(result.reason);
      expect(result.bytes.includes('secret place')).toBe(false);
      expect((await sharp(result.bytes).metadata()).exif).toBeUndefined();
      expect(result.bytes.length).toBeLessThanOrEqual(sent.length);
      const [before, after] = await Promise.all([sharp(sent).raw().toBuffer(), sharp(result.bytes).raw().toBuffer()]);
      expect(after.equals(before)).toBe(true);
    }
  });

  it('stores a large photo as compact as it came, not as a PNG several times its size', async () => {
    const photo = await noisyImage(1024, 1024, 40).jpeg({ quality: 95 }).toBuffer();
    const result = await inspectImageInput(photo, limits);
    if (!result.ok) throw new Error(result.reason);
    expect(result.stored).toBe('jpeg');
    expect(result.bytes.length).toBeLessThanOrEqual(photo.length);
  });

  it('accepts PNG, WebP and still GIF', async () => {
    for (const [format, bytes] of [
      ['png', await solid(10, 12).png().toBuffer()],
      ['webp', await solid(10, 12).webp().toBuffer()],
      ['gif', await solid(10, 12).gif().toBuffer()],
    ] as const) {
      expect(await inspectImageInput(bytes, limits)).toMatchObject({ ok: true, format, width: 10, height: 12 });
    }
  });

  it('rejects non-images by content, naming what they look like', async () => {
    expect(await inspectImageInput(Buffer.from('%PDF-1.7\n...'), limits)).toEqual({
      ok: false,
      reason: 'that file is not an image (looks like a PDF)',
    });
    const mp4 = Buffer.concat([Buffer.from([0, 0, 0, 0x20]), Buffer.from('ftypisom')]);
    expect(await inspectImageInput(mp4, limits)).toEqual({
      ok: false,
      reason: 'that file is not an image (looks like an MP4 video)',
    });
    expect(await inspectImageInput(Buffer.from('just text'), limits)).toEqual({
      ok: false,
      reason: 'that file is not an image',
    });
  });

  it('rejects image formats it cannot decode', async () => {
    const heic = Buffer.concat([Buffer.from([0, 0, 0, 0x18]), Buffer.from('ftypheic')]);
    expect(await inspectImageInput(heic, limits)).toEqual({
      ok: false,
      reason: 'HEIC images are not supported; send a PNG, JPEG, WebP or GIF',
    });
  });

  it('rejects files over the byte limit with both sizes', async () => {
    const png = await solid(8, 8).png().toBuffer();
    const padded = Buffer.concat([png, Buffer.alloc(Math.round(31.2 * MB) - png.length)]);
    const result = await inspectImageInput(padded, limits);
    expect(result).toEqual({ ok: false, reason: 'the image is 31.2 MB; the limit is 20 MB' });
  });

  it('rejects too many pixels without decoding them', async () => {
    const huge = await sharp({ create: { width: 5000, height: 5000, channels: 3, background: '#808080' } })
      .png({ compressionLevel: 9 })
      .toBuffer();
    expect(await inspectImageInput(huge, limits)).toEqual({
      ok: false,
      reason: 'the image is too large (5000×5000, the limit is 16.8 megapixels)',
    });
  });

  it('says "too large", not "corrupt", for a header past what the decoder itself would open', async () => {
    // A 30000×30000 PNG (900 megapixels) in a few hundred bytes: a decompression bomb.
    expect(await inspectImageInput(pngHeaderOnly(30_000, 30_000), limits)).toEqual({
      ok: false,
      reason: 'the image is too large (30000×30000, the limit is 16.8 megapixels)',
    });
  });

  it('rejects animated images unless the first frame is wanted', async () => {
    for (const format of ['gif', 'webp'] as const) {
      const bytes = await animated(format);
      expect(await inspectImageInput(bytes, limits)).toEqual({
        ok: false,
        reason: 'animated images are not accepted here; send a still image',
      });
      const still = await inspectImageInput(bytes, { ...limits, animated: 'first-frame' });
      expect(still).toMatchObject({ ok: true, width: 64, height: 64, format });
    }
  });

  it('rejects truncated and corrupt data', async () => {
    const png = await noisyImage(64, 64, 20).png().toBuffer();
    const truncated = await inspectImageInput(png.subarray(0, Math.floor(png.length / 2)), limits);
    expect(truncated).toEqual({ ok: false, reason: 'that PNG image could not be decoded (it looks corrupt or truncated)' });
    const garbage = Buffer.concat([png.subarray(0, 8), Buffer.alloc(100, 7)]);
    expect(await inspectImageInput(garbage, limits)).toEqual({
      ok: false,
      reason: 'that PNG image could not be read (it looks corrupt)',
    });
  });
});
