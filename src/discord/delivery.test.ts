import { describe, expect, it, vi } from 'vitest';
import type { OutputFile } from '../comfy/types.js';
import { DEFAULT_UPLOAD_LIMIT, deliveryKey, planDelivery, toCardFiles, uploadLimit, type FitToUploadLimit } from './delivery.js';

const MiB = 1024 * 1024;

function output(mime: string, size: number, kind = 'images', filename = 'ComfyUI_00001_.png'): OutputFile {
  return { node: '9', ref: { filename, subfolder: '', type: 'output' }, kind, mime, bytes: Buffer.alloc(size, 1) };
}

const neverCalled: FitToUploadLimit = async () => {
  throw new Error('fit should not be called');
};
const options = (fit: FitToUploadLimit = neverCalled, limitBytes = 10 * MiB) => ({ command: 'imagine', jobId: '01JABCDEFGHJK', limitBytes, fit });

describe('uploadLimit', () => {
  it('uses the interaction limit when present, else 10 MiB', () => {
    expect(uploadLimit(50 * MiB)).toBe(50 * MiB);
    expect(uploadLimit(null)).toBe(DEFAULT_UPLOAD_LIMIT);
    expect(uploadLimit(undefined)).toBe(10 * MiB);
    expect(uploadLimit(0)).toBe(10 * MiB);
    expect(uploadLimit(Number.NaN)).toBe(10 * MiB);
  });
});

describe('planDelivery', () => {
  it('names files <command>_<jobshort>_<n>.<ext> and summarises them', async () => {
    const plan = await planDelivery(
      [output('image/png', 10), output('image/gif', 10, 'gifs'), output('video/mp4', 10, 'gifs'), output('audio/flac', 10, 'audio'), output('application/x-thing', 5, 'files', 'data.npz')],
      options(),
    );
    expect(plan.batches).toHaveLength(1);
    expect(plan.batches[0]?.map((f) => f.name)).toEqual([
      'imagine_01JABCDE_1.png',
      'imagine_01JABCDE_2.gif',
      'imagine_01JABCDE_3.mp4',
      'imagine_01JABCDE_4.flac',
      'imagine_01JABCDE_5.npz',
    ]);
    expect(plan.summary).toBe('1 image, 2 animations, 1 audio, 1 file');
    expect(plan.embedImage).toBe('imagine_01JABCDE_1.png');
    expect(plan.notes).toEqual([]);
    expect(toCardFiles(plan.batches[0] ?? [])[0]).toEqual({ name: 'imagine_01JABCDE_1.png', attachment: expect.any(Buffer) });
  });

  it('splits more than 10 files over several messages and says so', async () => {
    const plan = await planDelivery(Array.from({ length: 23 }, () => output('image/png', 10)), options());
    expect(plan.batches.map((b) => b.length)).toEqual([10, 10, 3]);
    expect(plan.batches[2]?.[2]?.name).toBe('imagine_01JABCDE_23.png');
    expect(plan.notes).toEqual(['23 files are spread over 3 messages']);
  });

  it('keeps a message under 25 MiB in total', async () => {
    const plan = await planDelivery(Array.from({ length: 4 }, () => output('image/png', 9 * MiB)), options());
    expect(plan.batches.map((b) => b.length)).toEqual([2, 2]);
  });

  it('fits oversized files and notes the re-encoding', async () => {
    const fit = vi.fn<FitToUploadLimit>(async () => ({ name: 'x.jpg', mime: 'image/jpeg', bytes: Buffer.alloc(1000), note: 're-encoded as JPEG to fit 10 MiB' }));
    const plan = await planDelivery([output('image/png', 12 * MiB), output('image/png', 100)], options(fit));
    expect(fit).toHaveBeenCalledTimes(1);
    expect(fit.mock.calls[0]?.[0]).toMatchObject({ name: 'imagine_01JABCDE_1.png', mime: 'image/png' });
    expect(fit.mock.calls[0]?.[1]).toBe(10 * MiB);
    expect(plan.batches[0]?.map((f) => [f.name, f.mime])).toEqual([
      ['imagine_01JABCDE_1.jpg', 'image/jpeg'],
      ['imagine_01JABCDE_2.png', 'image/png'],
    ]);
    expect(plan.notes).toEqual(['imagine_01JABCDE_1.jpg: re-encoded as JPEG to fit 10 MiB']);
  });

  it('lists files that cannot fit, with the reason, and never drops them silently', async () => {
    const fit: FitToUploadLimit = async (file) =>
      file.mime === 'video/mp4'
        ? { tooLarge: true, note: 'video is 2 MiB; videos are not re-encoded' }
        : file.mime === 'audio/wav'
          ? { name: file.name, mime: file.mime, bytes: Buffer.alloc(1.5 * MiB) }
          : Promise.reject(new Error('sharp: unsupported image format'));
    const plan = await planDelivery(
      [output('video/mp4', 2 * MiB, 'gifs'), output('audio/wav', 2 * MiB, 'audio'), output('image/png', 2 * MiB), output('image/png', 0), output('image/png', 50)],
      options(fit, MiB),
    );
    expect(plan.batches.flat().map((f) => f.name)).toEqual(['imagine_01JABCDE_5.png']);
    expect(plan.leftOut.map((f) => f.name)).toEqual(['imagine_01JABCDE_1.mp4', 'imagine_01JABCDE_2.wav', 'imagine_01JABCDE_3.png', 'imagine_01JABCDE_4.png']);
    expect(plan.notes).toEqual([
      'imagine_01JABCDE_1.mp4 could not be attached: video is 2 MiB; videos are not re-encoded',
      'imagine_01JABCDE_2.wav could not be attached: still 1.5 MB after shrinking, over the 1 MB limit',
      'imagine_01JABCDE_3.png could not be attached: it is 2 MB, over the 1 MB limit, and shrinking it failed (sharp: unsupported image format)',
      'imagine_01JABCDE_4.png could not be attached: the file is empty',
    ]);
    expect(plan.summary).toBe('1 animation, 1 audio, 3 images');
  });

  it('uses a larger guild limit without fitting', async () => {
    const plan = await planDelivery([output('image/png', 30 * MiB)], options(neverCalled, 50 * MiB));
    expect(plan.batches[0]?.[0]?.bytes.length).toBe(30 * MiB);
  });

  it('has no embed image when the first message holds none', async () => {
    const plan = await planDelivery([output('audio/flac', 10, 'audio')], options());
    expect(plan.embedImage).toBeNull();
    expect((await planDelivery([], options())).summary).toBe('no output files');
  });

  it('keeps odd command and job ids out of file names', async () => {
    const plan = await planDelivery([output('image/png', 1)], { ...options(), command: '../x y', jobId: '::' });
    expect(plan.batches[0]?.[0]?.name).toBe('xy_job_1.png');
  });
});

describe('spoilered results', () => {
  it('prefixes every file with SPOILER_ across batches and shows none of them in the embed', async () => {
    const plan = await planDelivery(Array.from({ length: 12 }, () => output('image/png', 10)), { ...options(), spoiler: true });
    const names = plan.batches.flat().map((file) => file.name);
    expect(names).toHaveLength(12);
    expect(names.every((name) => /^SPOILER_imagine_01JABCDE_\d+\.png$/.test(name))).toBe(true);
    expect(plan.batches.map((b) => b.length)).toEqual([10, 2]);
    expect(plan.embedImage).toBeNull();
  });

  it('keys a spoilered file like the same file posted in the clear', () => {
    expect(deliveryKey('SPOILER_imagine_01JABCDE_1.png')).toBe('imagine_01JABCDE_1.png');
    expect(deliveryKey('imagine_01JABCDE_1.png')).toBe('imagine_01JABCDE_1.png');
  });
});

describe('planDelivery with media fitToUploadLimit', () => {
  it('re-encodes a real PNG that is over the limit', async () => {
    const { default: sharp } = await import('sharp');
    const noise = Buffer.from(Array.from({ length: 128 * 128 * 3 }, (_, i) => (i * 7919) % 251));
    const png = await sharp(noise, { raw: { width: 128, height: 128, channels: 3 } }).png().toBuffer();
    const limit = Math.floor(png.length / 2);
    const plan = await planDelivery(
      [{ node: '9', ref: { filename: 'a.png', subfolder: '', type: 'output' }, kind: 'images', mime: 'image/png', bytes: png }],
      { command: 'imagine', jobId: 'job12345', limitBytes: limit },
    );
    const [file] = plan.batches[0] ?? [];
    expect(file?.bytes.length).toBeLessThanOrEqual(limit);
    expect(file?.name).toMatch(/^imagine_job12345_1\.(jpg|webp)$/);
    expect(plan.notes).toHaveLength(1);
  });
});
