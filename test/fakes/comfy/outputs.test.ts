import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { asTranscriptFrame, http } from './client.js';
import { useFakeComfy } from './session.js';
import { loadTranscript, promptRuns } from './transcripts.js';

const comfy = useFakeComfy();

type FileRef = { filename: string; subfolder: string; type: string };

async function run(prompt: Record<string, unknown>, clientId = 'out', extra: Record<string, unknown> = {}): Promise<{ promptId: string; outputs: Record<string, Record<string, unknown>> }> {
  const socket = await comfy.open({ clientId });
  const response = await http(comfy.fake.url, 'POST', '/prompt', { prompt, client_id: clientId, ...extra });
  expect(response.status, response.text).toBe(200);
  const promptId = (response.json as { prompt_id: string }).prompt_id;
  await socket.finished(promptId);
  const entry = comfy.fake.history.get(promptId)!;
  expect(entry.status.status_str).toBe('success');
  return { promptId, outputs: entry.outputs as Record<string, Record<string, unknown>> };
}

async function view(ref: FileRef): Promise<Buffer> {
  const response = await http(comfy.fake.url, 'GET', `/view?filename=${encodeURIComponent(ref.filename)}&subfolder=${encodeURIComponent(ref.subfolder)}&type=${ref.type}`);
  expect(response.status, ref.filename).toBe(200);
  return response.bytes;
}

const image = (color: number) => ({ class_type: 'EmptyImage', inputs: { width: 24, height: 16, batch_size: 1, color } });

describe('04-prompt-loadimage-scale-save replay', () => {
  it('LoadImage → ImageScale → SaveImage plus MaskToImage → PreviewImage: sequence, sizes, temp output, meta', async () => {
    const fake = await comfy.start();
    const png = await sharp({ create: { width: 64, height: 48, channels: 3, background: '#123456' } }).png().toBuffer();
    const form = new FormData();
    form.set('image', new Blob([new Uint8Array(png)]), 'transcript-input-mx123hts.png');
    expect((await http(fake.url, 'POST', '/upload/image', form)).status).toBe(200);

    const transcript = loadTranscript('04-prompt-loadimage-scale-save');
    const body = structuredClone(transcript.http[0]!.request_json) as Record<string, unknown>;
    const socket = await comfy.open({ clientId: 'client-04', flags: { supports_preview_metadata: true } });
    body['client_id'] = 'client-04';
    const { prompt_id: promptId } = (await http(fake.url, 'POST', '/prompt', body)).json as { prompt_id: string };
    await socket.finished(promptId);
    const live = promptRuns(socket.frames.map((f) => asTranscriptFrame(f)))[0]!.filter((l) => l !== 'feature_flags');
    const recorded = promptRuns(transcript.frames.get('owner')!)[0]!.filter((l) => l !== 'feature_flags');
    expect(live).toEqual(recorded);

    const entry = fake.history.get(promptId)!;
    const recordedEntry = Object.values(transcript.http[1]!.response_json as Record<string, { prompt: unknown[]; meta: object; outputs: object }>)[0]!;
    expect(Object.keys(entry.outputs).sort()).toEqual(Object.keys(recordedEntry.outputs).sort());
    expect([...entry.prompt[4]].sort()).toEqual([...(recordedEntry.prompt[4] as string[])].sort());
    expect(entry.prompt[3]).toEqual(recordedEntry.prompt[3] && { ...(recordedEntry.prompt[3] as object), client_id: 'client-04' });
    expect(Object.keys(entry.meta).sort()).toEqual(Object.keys(recordedEntry.meta).sort());
    const saved = (entry.outputs['12'] as { images: FileRef[] }).images[0]!;
    const preview = (entry.outputs['14'] as { images: FileRef[] }).images[0]!;
    expect(saved.filename).toBe('transcript_b_mx123hts_00001_.png');
    expect(preview.type).toBe('temp');
    expect(preview.filename).toMatch(/^ComfyUI_temp_[a-z]{5}_00001_\.png$/);
    expect(await sharp(await view(saved)).metadata()).toMatchObject({ width: 32, height: 24 });
    expect(await sharp(await view(preview)).metadata()).toMatchObject({ width: 64, height: 48 });
  });
});

describe('output nodes', () => {
  it('writes real files with the right magic bytes for every saver, and nothing for nodes without UI output', async () => {
    await comfy.start();
    const { outputs } = await run({
      '1': image(255),
      '2': { class_type: 'SaveAnimatedWEBP', inputs: { images: ['1', 0], filename_prefix: 'anim', fps: 6, lossless: false, quality: 80, method: 'default' } },
      '3': { class_type: 'SaveAnimatedPNG', inputs: { images: ['1', 0], filename_prefix: 'apng', fps: 6, compress_level: 4 } },
      '4': { class_type: 'SaveWEBM', inputs: { images: ['1', 0], filename_prefix: 'clip', codec: 'vp9', fps: 24, crf: 32 } },
      '5': { class_type: 'CheckpointLoaderSimple', inputs: { ckpt_name: 'sd15.safetensors' } },
      '6': { class_type: 'EmptyLatentAudio', inputs: { seconds: 2, batch_size: 1 } },
      '7': { class_type: 'VAEDecodeAudio', inputs: { samples: ['6', 0], vae: ['5', 2] } },
      '8': { class_type: 'SaveAudio', inputs: { audio: ['7', 0], filename_prefix: 'audio/sound' } },
      '9': { class_type: 'SaveImageWebsocket', inputs: { images: ['1', 0] } },
    });
    expect(Object.keys(outputs).sort()).toEqual(['2', '3', '4', '8']);
    const first = (id: string, key: string): FileRef => (outputs[id]![key] as FileRef[])[0]!;
    expect(outputs['2']).toMatchObject({ animated: [true] });
    expect((await sharp(await view(first('2', 'images'))).metadata()).format).toBe('webp');
    expect((await view(first('3', 'images'))).subarray(1, 4).toString()).toBe('PNG');
    expect((await view(first('4', 'images'))).subarray(0, 4).toString('hex')).toBe('1a45dfa3');
    const audio = first('8', 'audio');
    expect(audio).toMatchObject({ filename: 'sound_00001_.flac', subfolder: 'audio', type: 'output' });
    expect((await view(audio)).subarray(0, 4).toString()).toBe('fLaC');
  });

  it('numbers files per prefix, and different seeds give different bytes', async () => {
    await comfy.start();
    const sampler = (seed: number) => ({
      '4': { class_type: 'CheckpointLoaderSimple', inputs: { ckpt_name: 'sd15.safetensors' } },
      '5': { class_type: 'EmptyLatentImage', inputs: { width: 64, height: 96, batch_size: 1 } },
      '6': { class_type: 'CLIPTextEncode', inputs: { text: 'x', clip: ['4', 1] } },
      '3': { class_type: 'KSampler', inputs: { seed, steps: 1, cfg: 7, sampler_name: 'euler', scheduler: 'normal', denoise: 1, model: ['4', 0], positive: ['6', 0], negative: ['6', 0], latent_image: ['5', 0] } },
      '8': { class_type: 'VAEDecode', inputs: { samples: ['3', 0], vae: ['4', 2] } },
      '9': { class_type: 'SaveImage', inputs: { images: ['8', 0], filename_prefix: 'sub/seeded' } },
    });
    const a = (await run(sampler(1), 'a')).outputs['9']!['images'] as FileRef[];
    const b = (await run(sampler(2), 'b')).outputs['9']!['images'] as FileRef[];
    expect(a[0]).toEqual({ filename: 'seeded_00001_.png', subfolder: 'sub', type: 'output' });
    expect(b[0]!.filename).toBe('seeded_00002_.png');
    const [bytesA, bytesB] = [await view(a[0]!), await view(b[0]!)];
    expect(bytesA.equals(bytesB)).toBe(false);
    expect(await sharp(bytesA).metadata()).toMatchObject({ width: 64, height: 96 });
  });

  it('SaveVideo writes an MP4 under video/ by default', async () => {
    const core = await comfy.start({ objectInfo: 'core' });
    // no core node produces VIDEO, so feed SaveVideo from a class declared in a custom object_info
    const info = (await http(core.url, 'GET', '/object_info')).json as Record<string, unknown>;
    await core.close();
    await comfy.start({
      objectInfo: {
        ...info,
        FakeVideoSource: { input: { required: {} }, output: ['VIDEO'], output_node: false, name: 'FakeVideoSource' },
      },
    });
    const { outputs } = await run({
      '1': { class_type: 'FakeVideoSource', inputs: {} },
      '2': { class_type: 'SaveVideo', inputs: { video: ['1', 0], filename_prefix: 'video/ComfyUI', format: 'auto', codec: 'auto' } },
    });
    const ref = (outputs['2']!['images'] as FileRef[])[0]!;
    expect(ref).toMatchObject({ filename: 'ComfyUI_00001_.mp4', subfolder: 'video' });
    expect((await view(ref)).subarray(4, 8).toString()).toBe('ftyp');
  });
});
