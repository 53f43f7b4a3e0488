// Metadata removed from a PNG, JPEG or WebP without decoding or re-encoding it: the pixels stay byte for byte
// what the member sent, while EXIF (camera, GPS), XMP, text comments and trailing data are dropped. Chunks
// that change how the pixels look (palette, transparency, colour profile) are kept. Null when the file's
// structure is not what its format promises: the caller then re-encodes it instead.

export type StrippableFormat = 'png' | 'jpeg' | 'webp';

export function stripMetadata(bytes: Buffer, format: StrippableFormat): Buffer | null {
  switch (format) {
    case 'png':
      return stripPng(bytes);
    case 'jpeg':
      return stripJpeg(bytes);
    case 'webp':
      return stripWebp(bytes);
  }
}

const PNG_SIGNATURE = 8;
/** Critical chunks and the ancillary ones that affect rendering; text, time, EXIF and private chunks go. */
const PNG_KEEP = new Set(['IHDR', 'PLTE', 'IDAT', 'IEND', 'tRNS', 'gAMA', 'cHRM', 'sRGB', 'iCCP', 'sBIT', 'bKGD', 'pHYs']);

function stripPng(bytes: Buffer): Buffer | null {
  const kept: Buffer[] = [bytes.subarray(0, PNG_SIGNATURE)];
  let pos = PNG_SIGNATURE;
  while (pos + 12 <= bytes.length) {
    const length = bytes.readUInt32BE(pos);
    const type = bytes.toString('latin1', pos + 4, pos + 8);
    const end = pos + 12 + length;
    if (end > bytes.length) return null;
    if (PNG_KEEP.has(type)) kept.push(bytes.subarray(pos, end));
    pos = end;
    if (type === 'IEND') return Buffer.concat(kept);
  }
  return null;
}

const SOS = 0xda;
const EOI = 0xd9;

/** APP0 (JFIF), APP2 holding the ICC profile, APP14 (Adobe: how to read the colour channels). */
function keepJpegSegment(marker: number, body: Buffer): boolean {
  if (marker === 0xe0 || marker === 0xee) return true;
  if (marker === 0xe2) return body.toString('latin1', 0, 12) === 'ICC_PROFILE\0';
  // Other APPn (EXIF, XMP, IPTC, MPF…) and comments.
  return !((marker >= 0xe1 && marker <= 0xef) || marker === 0xfe);
}

function stripJpeg(bytes: Buffer): Buffer | null {
  const kept: Buffer[] = [bytes.subarray(0, 2)];
  let pos = 2;
  while (pos + 4 <= bytes.length) {
    if (bytes[pos] !== 0xff) return null;
    const marker = bytes[pos + 1]!;
    if (marker === 0xff) {
      pos += 1; // fill byte
      continue;
    }
    if (marker === SOS) {
      // Entropy-coded data never holds an unstuffed FF D9, so the first one is the end of the image; anything
      // after it (a second picture, vendor trailers) is dropped.
      const end = bytes.indexOf(Buffer.from([0xff, EOI]), pos + 2);
      if (end === -1) return null;
      kept.push(bytes.subarray(pos, end + 2));
      return Buffer.concat(kept);
    }
    const length = bytes.readUInt16BE(pos + 2);
    const end = pos + 2 + length;
    if (length < 2 || end > bytes.length) return null;
    if (keepJpegSegment(marker, bytes.subarray(pos + 4, end))) kept.push(bytes.subarray(pos, end));
    pos = end;
  }
  return null;
}

const VP8X_EXIF = 0x08;
const VP8X_XMP = 0x04;

function stripWebp(bytes: Buffer): Buffer | null {
  if (bytes.length < 12) return null;
  const kept: Buffer[] = [];
  let pos = 12;
  while (pos + 8 <= bytes.length) {
    const fourcc = bytes.toString('latin1', pos, pos + 4);
    const size = bytes.readUInt32LE(pos + 4);
    const end = pos + 8 + size + (size % 2);
    if (pos + 8 + size > bytes.length) return null;
    if (fourcc === 'VP8X') {
      const chunk = Buffer.from(bytes.subarray(pos, Math.min(end, bytes.length)));
      chunk[8] = chunk[8]! & ~(VP8X_EXIF | VP8X_XMP);
      kept.push(chunk);
    } else if (fourcc !== 'EXIF' && fourcc !== 'XMP ') {
      kept.push(bytes.subarray(pos, Math.min(end, bytes.length)));
    }
    pos = end;
  }
  const body = Buffer.concat(kept);
  const header = Buffer.alloc(12);
  header.write('RIFF', 0, 'latin1');
  header.writeUInt32LE(body.length + 4, 4);
  header.write('WEBP', 8, 'latin1');
  return Buffer.concat([header, body]);
}
