import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { fitToUploadLimit } from '../../src/media/fit.js';
import { sniffMime } from '../../src/media/sniff.js';
import { animated, noisyAnimation, noisyImage, solid } from './images.js';

const KB = 1024;

async function fitted(bytes: Buffer, name: string, limit: number) {
  const result = await fitToUploadLimit({ name, mime: 'image/png', bytes }, limit);
  if ('tooLarge' in result) throw new Error(`unexpectedly too large: ${result.note}`);
  expect(result.bytes.length).toBeLessThanOrEqual(limit);
  expect(sniffMime(result.bytes)).toBe(result.mime);
  return result;
}

describe('fitToUploadLimit', () => {
  it('returns a file that fits unchanged, without a note', async () => {
    const bytes = await solid(16, 16).png().toBuffer();
    const result = await fitToUploadLimit({ name: 'a.png', mime: 'image/png', bytes }, 10 * KB);
    expect(result).toEqual({ name: 'a.png', mime: 'image/png', bytes });
  });

  it('first tries lossless WebP', async () => {
    const png = await noisyImage(512, 512, 0).png({ compressionLevel: 0 }).toBuffer();
    const result = await fitted(png, 'ComfyUI_00001_.png', 100 * KB);
    expect(result).toMatchObject({
      name: 'ComfyUI_00001_.webp',
      mime: 'image/webp',
      note: "re-encoded as lossless WebP to fit Discord's 100 KB limit",
    });
  });

  it('then JPEG q90 when lossless is still too big', async () => {
    const png = await noisyImage(512, 512, 4).png({ compressionLevel: 0 }).toBuffer();
    const result = await fitted(png, 'out.png', 60 * KB);
    expect(result).toMatchObject({ name: 'out.jpg', mime: 'image/jpeg', note: "re-encoded as JPEG to fit Discord's 60 KB limit" });
    expect(await sharp(result.bytes).metadata()).toMatchObject({ width: 512, height: 512 });
  });

  it('then downscales in steps, saying to what size', async () => {
    const png = await noisyImage(512, 512, 127).png({ compressionLevel: 0 }).toBuffer();
    const result = await fitted(png, 'noise.png', 40 * KB);
    const meta = await sharp(result.bytes).metadata();
    expect(meta.width).toBeLessThan(512);
    expect(result.name).toBe('noise.jpg');
    expect(result.note).toBe(`downscaled to ${meta.width}×${meta.height} (JPEG) to fit Discord's 40 KB limit`);
  });

  it('keeps transparency by using WebP instead of JPEG', async () => {
    const rgb = await noisyImage(256, 256, 127).raw().toBuffer();
    const rgba = await sharp(rgb, { raw: { width: 256, height: 256, channels: 3 } }).ensureAlpha(0.5).png().toBuffer();
    const result = await fitted(rgba, 'alpha.png', 40 * KB);
    expect(result.mime).toBe('image/webp');
    expect(result.note).toMatch(/^(re-encoded as WebP|downscaled to \d+×\d+ \(WebP\)) to fit/);
    expect((await sharp(result.bytes).metadata()).hasAlpha).toBe(true);
  });

  it('keeps animation, as animated WebP', async () => {
    const gif = await animated('gif', 6, 256);
    const result = await fitted(gif, 'anim.gif', Math.floor(gif.length / 2));
    expect(result.name).toBe('anim.webp');
    expect(result.note).toMatch(/animated WebP/);
    expect((await sharp(result.bytes).metadata()).pages).toBe(6);
  });

  it('downscales animations frame by frame', async () => {
    const gif = await noisyAnimation(4, 128);
    const result = await fitted(gif, 'noisy.gif', 20_000);
    const meta = await sharp(result.bytes, { animated: true }).metadata();
    expect(meta.pages).toBe(4);
    expect(meta.width).toBeLessThan(128);
    expect(result.note).toBe(`downscaled to ${meta.width}×${meta.pageHeight} (animated WebP) to fit Discord's 19.5 KB limit`);
  });

  it('skips the lossless step for JPEG sources', async () => {
    const jpeg = await noisyImage(512, 512, 127).jpeg({ quality: 100 }).toBuffer();
    const result = await fitted(jpeg, 'photo.jpeg', jpeg.length - 1);
    expect(result).toMatchObject({ name: 'photo.jpg', note: "re-encoded as JPEG to fit Discord's " + `${((jpeg.length - 1) / KB).toFixed(1).replace(/\.0$/, '')} KB limit` });
  });

  it('cannot shrink video or audio, and says so', async () => {
    const mp4 = Buffer.concat([Buffer.from([0, 0, 0, 0x20]), Buffer.from('ftypisom'), Buffer.alloc(3 * KB)]);
    expect(await fitToUploadLimit({ name: 'clip.mp4', mime: 'video/mp4', bytes: mp4 }, KB)).toEqual({
      tooLarge: true,
      note: "clip.mp4 is 3 KB, over Discord's 1 KB limit, and MP4 videos cannot be shrunk by the bot",
    });
    const unknown = Buffer.alloc(2 * KB, 1);
    expect(await fitToUploadLimit({ name: 'x.bin', mime: 'image/png', bytes: unknown }, KB)).toEqual({
      tooLarge: true,
      note: "x.bin is 2 KB, over Discord's 1 KB limit, and files of this type cannot be shrunk by the bot",
    });
  });

  it('gives up on corrupt images and limits too small for any useful size', async () => {
    const png = await noisyImage(128, 128, 127).png().toBuffer();
    const corrupt = Buffer.concat([png.subarray(0, 8), Buffer.alloc(4 * KB, 3)]);
    expect(await fitToUploadLimit({ name: 'c.png', mime: 'image/png', bytes: corrupt }, KB)).toEqual({
      tooLarge: true,
      note: "c.png is 4 KB, over Discord's 1 KB limit, and the image could not be read to shrink it",
    });
    const result = await fitToUploadLimit({ name: 'n.png', mime: 'image/png', bytes: png }, 100);
    expect(result).toEqual({ tooLarge: true, note: expect.stringMatching(/over Discord's 100 bytes limit, even downscaled below 64 px$/) });
  });

  it('rejects a nonsensical limit', async () => {
    const bytes = await solid(4, 4).png().toBuffer();
    await expect(fitToUploadLimit({ name: 'a.png', mime: 'image/png', bytes }, 0)).rejects.toThrow(/positive number of bytes/);
  });
});
