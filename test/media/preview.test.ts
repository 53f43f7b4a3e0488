import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import {
  encodePreview,
  PreviewEncodeError,
  PreviewEncoder,
  type EncodedPreview,
  type PreviewOptions,
} from '../../src/media/preview.js';
import { sniffMime } from '../../src/media/sniff.js';
import { noisyImage } from './images.js';

const frame512 = () => noisyImage(512, 512, 6).jpeg({ quality: 95 }).toBuffer();

describe('encodePreview', () => {
  it('shrinks a 512×512 JPEG q95 frame to a WebP a third of its size or less', async () => {
    const raw = await frame512();
    const preview = await encodePreview(raw, { format: 'webp', maxSize: 384 });
    expect(preview).toMatchObject({ mime: 'image/webp', width: 384, height: 384 });
    expect(sniffMime(preview.bytes)).toBe('image/webp');
    const same = await encodePreview(raw, { format: 'webp', maxSize: 512 });
    expect(same.bytes.length).toBeLessThanOrEqual(raw.length / 3);
  });

  it('encodes PNG frames to JPEG, keeping the aspect ratio', async () => {
    const png = await noisyImage(512, 256, 2).png().toBuffer();
    const preview = await encodePreview(png, { format: 'jpeg', maxSize: 384, quality: 60 });
    expect(preview).toMatchObject({ mime: 'image/jpeg', width: 384, height: 192 });
    expect(sniffMime(preview.bytes)).toBe('image/jpeg');
    const meta = await sharp(preview.bytes).metadata();
    expect(meta.exif).toBeUndefined();
  });

  it('never enlarges a small frame', async () => {
    const small = await noisyImage(200, 100, 2).jpeg().toBuffer();
    expect(await encodePreview(small, { format: 'webp', maxSize: 384 })).toMatchObject({ width: 200, height: 100 });
  });

  it('rejects corrupt frames with a PreviewEncodeError that says what failed', async () => {
    const err = await encodePreview(Buffer.from('not an image'), { format: 'webp', maxSize: 384 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PreviewEncodeError);
    expect((err as Error).message).toMatch(/could not re-encode a 12-byte preview frame/);
  });

  it('rejects invalid options', async () => {
    const raw = await frame512();
    await expect(encodePreview(raw, { format: 'webp', maxSize: 0 })).rejects.toThrow(/maxSize must be a positive integer/);
    await expect(encodePreview(raw, { format: 'jpeg', maxSize: 64, quality: 101 })).rejects.toThrow(/quality must be/);
  });
});

/** An encode function whose calls finish when the test says so. */
function controlledEncode() {
  const calls: { bytes: Buffer; finish: (ok?: boolean) => void }[] = [];
  const encode = (bytes: Buffer): Promise<EncodedPreview> =>
    new Promise((resolve, reject) => {
      calls.push({
        bytes,
        finish: (ok = true) =>
          ok ? resolve({ bytes, mime: 'image/webp', width: 1, height: 1 }) : reject(new Error(`bad ${bytes}`)),
      });
    });
  return { calls, encode };
}

const options: PreviewOptions = { format: 'webp', maxSize: 64 };
const frame = (name: string) => Buffer.from(name);

describe('PreviewEncoder', () => {
  it('encodes nothing until a card asks, then only the newest frame', async () => {
    const { calls, encode } = controlledEncode();
    const encoder = new PreviewEncoder(options, encode);
    const submitted = ['f1', 'f2', 'f3'].map((name) => encoder.submit('job', frame(name)));
    expect(calls).toHaveLength(0);
    expect(await submitted[0]).toBeNull();
    expect(await submitted[1]).toBeNull();
    const latest = encoder.latest('job');
    expect(calls.map((c) => String(c.bytes))).toEqual(['f3']);
    calls[0]!.finish();
    const shown = await latest;
    expect(String(shown!.bytes)).toBe('f3');
    // The frame's own promise resolves to the very object the card sends (the bench maps buffers to frames).
    expect(await submitted[2]).toBe(shown);
    expect(encoder.dropped).toBe(2);
  });

  it('returns the last encoding again while no newer frame arrived, and null before any frame', async () => {
    const { calls, encode } = controlledEncode();
    const encoder = new PreviewEncoder(options, encode);
    expect(await encoder.latest('job')).toBeNull();
    void encoder.submit('job', frame('f1'));
    const first = encoder.latest('job');
    calls[0]!.finish();
    const encoded = await first;
    expect(await encoder.latest('job')).toBe(encoded);
    expect(calls).toHaveLength(1);
  });

  it('keeps jobs apart', async () => {
    const { calls, encode } = controlledEncode();
    const encoder = new PreviewEncoder(options, encode);
    void encoder.submit('a', frame('a1'));
    void encoder.submit('b', frame('b1'));
    const b = encoder.latest('b');
    expect(calls.map((c) => String(c.bytes))).toEqual(['b1']);
    calls[0]!.finish();
    expect(String((await b)!.bytes)).toBe('b1');
    expect(encoder.dropped).toBe(0);
  });

  it('drops the waiting frame of a forgotten job and forgets its last encoding', async () => {
    const { calls, encode } = controlledEncode();
    const encoder = new PreviewEncoder(options, encode);
    const waiting = encoder.submit('job', frame('f1'));
    encoder.forget('job');
    expect(await waiting).toBeNull();
    expect(await encoder.latest('job')).toBeNull();
    expect(calls).toHaveLength(0);
    encoder.forget('unknown');
    expect(encoder.dropped).toBe(1);
  });

  it('rejects a frame that fails to encode, then falls back to the previous encoding', async () => {
    const { calls, encode } = controlledEncode();
    const encoder = new PreviewEncoder(options, encode);
    void encoder.submit('job', frame('good'));
    const good = encoder.latest('job');
    calls[0]!.finish();
    const encoded = await good;
    const bad = encoder.submit('job', frame('bad'));
    const failed = encoder.latest('job');
    calls[1]!.finish(false);
    await expect(failed).rejects.toThrow('bad bad');
    await expect(bad).rejects.toThrow('bad bad');
    expect(await encoder.latest('job')).toBe(encoded);
  });

  it('turns a flood of real frames into one encode of the last frame', async () => {
    const encoder = new PreviewEncoder({ format: 'webp', maxSize: 128 });
    const frames = await Promise.all([1, 2, 3, 4, 5, 6].map((i) => noisyImage(256, 256, i).jpeg().toBuffer()));
    const submitted = frames.map((f) => encoder.submit('job', f));
    const shown = await encoder.latest('job');
    const results = await Promise.all(submitted);
    expect(results.filter((r) => r !== null)).toEqual([shown]);
    expect(results.at(-1)).toMatchObject({ width: 128, height: 128, mime: 'image/webp' });
    expect(encoder.dropped).toBe(5);
  });
});
