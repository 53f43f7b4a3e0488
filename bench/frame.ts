// A stand-in for a ComfyUI sampler preview: 512×512 JPEG at quality 95 (ComfyUI's preview encoding) with soft,
// colourful structure like a half-denoised image. The fake ComfyUI's own preview is one flat colour, which every
// encoder compresses to nothing, so the preview benchmark would flatter the pipeline with it.
import sharp from 'sharp';

/** xorshift32: the same frame on every run, so runs compare. */
function random(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 0x1_0000_0000;
  };
}

export async function previewFrame(size = 512, seed = 7): Promise<Buffer> {
  const next = random(seed);
  const cells = 24;
  const coarse = Buffer.alloc(cells * cells * 3);
  for (let i = 0; i < coarse.length; i++) coarse[i] = Math.floor(next() * 256);
  const smooth = await sharp(coarse, { raw: { width: cells, height: cells, channels: 3 } })
    .resize(size, size, { kernel: 'cubic' })
    .raw()
    .toBuffer();
  // fine grain on top, as latents still carry it
  for (let i = 0; i < smooth.length; i++) smooth[i] = Math.max(0, Math.min(255, smooth[i]! + Math.round((next() - 0.5) * 24)));
  return sharp(smooth, { raw: { width: size, height: size, channels: 3 } }).jpeg({ quality: 95 }).toBuffer();
}
