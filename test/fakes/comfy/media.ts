// Real, small media files for the fake ComfyUI's outputs and previews. Every byte stream here is a valid file
// of its kind so that clients (and sharp in the media room) can decode what they download.
import { createHash } from 'node:crypto';
import sharp from 'sharp';

/** An RGB colour derived from a seed string: different seeds give different pixels, hence different bytes. */
function colourFor(seed: string): { r: number; g: number; b: number } {
  const digest = createHash('sha256').update(seed).digest();
  return { r: digest[0] ?? 0, g: digest[1] ?? 0, b: digest[2] ?? 0 };
}

function solid(width: number, height: number, seed: string): ReturnType<typeof sharp> {
  return sharp({ create: { width, height, channels: 3, background: colourFor(seed) } });
}

export function pngImage(width: number, height: number, seed: string, compressionLevel = 6): Promise<Buffer> {
  return solid(width, height, seed).png({ compressionLevel }).toBuffer();
}

export function animatedWebp(width: number, height: number, seed: string): Promise<Buffer> {
  return solid(width, height, seed).webp({ quality: 80 }).toBuffer();
}

let previewJpeg: Promise<Buffer> | undefined;

/** The sampler preview: a 512x512 JPEG at quality 95, like `--preview-method auto` upscaled to `--preview-size`. */
export function samplerPreview(): Promise<Buffer> {
  const made = previewJpeg ?? solid(512, 512, 'preview').jpeg({ quality: 95 }).toBuffer();
  previewJpeg = made;
  return made;
}

/** A FLAC stream with only a STREAMINFO block and zero samples: the smallest file decoders accept. */
export function emptyFlac(): Buffer {
  const info = Buffer.alloc(34);
  info.writeUInt16BE(4096, 0); // min block size
  info.writeUInt16BE(4096, 2); // max block size
  // bytes 4..9: min/max frame size unknown (0)
  // 20 bits sample rate (44100), 3 bits channels-1 (1 = stereo), 5 bits bits-per-sample-1 (15), 36 bits samples (0)
  const packed = (BigInt(44100) << 44n) | (1n << 41n) | (15n << 36n);
  info.writeBigUInt64BE(packed, 10);
  const header = Buffer.from([0x80, 0x00, 0x00, 34]); // last metadata block, type STREAMINFO, length 34
  return Buffer.concat([Buffer.from('fLaC'), header, info]);
}

/** An EBML header declaring a WebM document: enough for magic-byte sniffing. */
export function webmStub(): Buffer {
  const docType = Buffer.from('webm');
  const docTypeElement = Buffer.concat([Buffer.from([0x42, 0x82, 0x80 | docType.length]), docType]);
  return Buffer.concat([Buffer.from([0x1a, 0x45, 0xdf, 0xa3, 0x80 | docTypeElement.length]), docTypeElement]);
}

/** An ISO-BMFF `ftyp` box for an MP4 file. */
export function mp4Stub(): Buffer {
  const box = Buffer.alloc(24);
  box.writeUInt32BE(24, 0);
  box.write('ftyp', 4, 'latin1');
  box.write('isom', 8, 'latin1');
  box.writeUInt32BE(512, 12);
  box.write('isomiso2', 16, 'latin1');
  return box;
}
