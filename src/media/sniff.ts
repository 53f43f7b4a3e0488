// Content sniffing by magic bytes: file names and declared content types come from users and servers and are
// never trusted for deciding how to handle a file.

export type MediaKind = 'image' | 'video' | 'audio' | 'document' | 'archive';

export interface SniffedType {
  mime: string;
  /** Extension without the dot, for naming re-encoded or downloaded files. */
  ext: string;
  kind: MediaKind;
  /** Human name used in messages to users ("PDF", "MP4 video"). */
  label: string;
  /** The article that goes before the label. */
  article: 'a' | 'an';
}

const TYPES = {
  png: { mime: 'image/png', ext: 'png', kind: 'image', label: 'PNG', article: 'a' },
  jpeg: { mime: 'image/jpeg', ext: 'jpg', kind: 'image', label: 'JPEG', article: 'a' },
  webp: { mime: 'image/webp', ext: 'webp', kind: 'image', label: 'WebP', article: 'a' },
  gif: { mime: 'image/gif', ext: 'gif', kind: 'image', label: 'GIF', article: 'a' },
  avif: { mime: 'image/avif', ext: 'avif', kind: 'image', label: 'AVIF', article: 'an' },
  heic: { mime: 'image/heic', ext: 'heic', kind: 'image', label: 'HEIC', article: 'an' },
  tiff: { mime: 'image/tiff', ext: 'tiff', kind: 'image', label: 'TIFF', article: 'a' },
  bmp: { mime: 'image/bmp', ext: 'bmp', kind: 'image', label: 'BMP', article: 'a' },
  mp4: { mime: 'video/mp4', ext: 'mp4', kind: 'video', label: 'MP4 video', article: 'an' },
  mov: { mime: 'video/quicktime', ext: 'mov', kind: 'video', label: 'QuickTime video', article: 'a' },
  webm: { mime: 'video/webm', ext: 'webm', kind: 'video', label: 'WebM video', article: 'a' },
  m4a: { mime: 'audio/mp4', ext: 'm4a', kind: 'audio', label: 'M4A audio file', article: 'an' },
  flac: { mime: 'audio/flac', ext: 'flac', kind: 'audio', label: 'FLAC audio file', article: 'an' },
  wav: { mime: 'audio/wav', ext: 'wav', kind: 'audio', label: 'WAV audio file', article: 'a' },
  mp3: { mime: 'audio/mpeg', ext: 'mp3', kind: 'audio', label: 'MP3 audio file', article: 'an' },
  ogg: { mime: 'audio/ogg', ext: 'ogg', kind: 'audio', label: 'Ogg audio file', article: 'an' },
  pdf: { mime: 'application/pdf', ext: 'pdf', kind: 'document', label: 'PDF', article: 'a' },
  zip: { mime: 'application/zip', ext: 'zip', kind: 'archive', label: 'ZIP archive', article: 'a' },
} as const satisfies Record<string, SniffedType>;

function ascii(bytes: Uint8Array, start: number, length: number): string {
  if (bytes.length < start + length) return '';
  return Buffer.from(bytes.buffer, bytes.byteOffset + start, length).toString('latin1');
}

function startsWith(bytes: Uint8Array, signature: readonly number[], offset = 0): boolean {
  if (bytes.length < offset + signature.length) return false;
  return signature.every((b, i) => bytes[offset + i] === b);
}

/** ISO base media files (MP4, MOV, M4A, AVIF, HEIC) share the `ftyp` box; the major brand tells them apart. */
function sniffIsoBmff(bytes: Uint8Array): SniffedType | null {
  if (ascii(bytes, 4, 4) !== 'ftyp') return null;
  const brand = ascii(bytes, 8, 4);
  if (brand === 'avif' || brand === 'avis') return TYPES.avif;
  if (['heic', 'heix', 'hevc', 'hevx', 'mif1', 'msf1'].includes(brand)) return TYPES.heic;
  if (brand === 'M4A ' || brand === 'M4B ') return TYPES.m4a;
  if (brand === 'qt  ') return TYPES.mov;
  return TYPES.mp4;
}

/** MPEG audio frame sync: 11 set bits, then a valid version and layer. */
function isMp3Frame(bytes: Uint8Array): boolean {
  const b0 = bytes[0];
  const b1 = bytes[1];
  if (b0 !== 0xff || b1 === undefined) return false;
  return (b1 & 0xe0) === 0xe0 && (b1 & 0x18) !== 0x08 && (b1 & 0x06) !== 0x00;
}

/** The type of a file from its first bytes, or null when it is none of the types comfycord handles. */
export function sniffType(bytes: Uint8Array): SniffedType | null {
  if (startsWith(bytes, [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])) return TYPES.png;
  if (startsWith(bytes, [0xff, 0xd8, 0xff])) return TYPES.jpeg;
  const head4 = ascii(bytes, 0, 4);
  if (head4 === 'RIFF') {
    const form = ascii(bytes, 8, 4);
    if (form === 'WEBP') return TYPES.webp;
    if (form === 'WAVE') return TYPES.wav;
    return null;
  }
  const head6 = ascii(bytes, 0, 6);
  if (head6 === 'GIF87a' || head6 === 'GIF89a') return TYPES.gif;
  if (head4 === 'fLaC') return TYPES.flac;
  if (head4 === 'OggS') return TYPES.ogg;
  if (head4 === '%PDF') return TYPES.pdf;
  if (startsWith(bytes, [0x50, 0x4b, 0x03, 0x04])) return TYPES.zip;
  if (startsWith(bytes, [0x1a, 0x45, 0xdf, 0xa3])) return TYPES.webm;
  if (head4 === 'II*\0' || head4 === 'MM\0*') return TYPES.tiff;
  if (ascii(bytes, 0, 2) === 'BM' && bytes.length >= 26) return TYPES.bmp;
  const iso = sniffIsoBmff(bytes);
  if (iso) return iso;
  if (ascii(bytes, 0, 3) === 'ID3' || isMp3Frame(bytes)) return TYPES.mp3;
  return null;
}

/** The MIME type of a file from its magic bytes, or null when unknown. */
export function sniffMime(bytes: Uint8Array): string | null {
  return sniffType(bytes)?.mime ?? null;
}

/** The extension (without dot) comfycord uses for a MIME type it produces. */
export function extensionFor(mime: string): string | null {
  for (const type of Object.values(TYPES)) if (type.mime === mime) return type.ext;
  return null;
}
