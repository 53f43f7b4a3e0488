// Numbers as users read them in error messages and notes.

const MB = 1024 * 1024;

/** "31.2 MB", "20 MB", "850 KB", "12 bytes" (binary units, as Discord counts its upload limits). */
export function formatBytes(bytes: number): string {
  if (bytes >= MB) return `${trimDecimal(bytes / MB)} MB`;
  if (bytes >= 1024) return `${trimDecimal(bytes / 1024)} KB`;
  return `${bytes} bytes`;
}

/** "16.8 megapixels". */
export function formatMegapixels(pixels: number): string {
  return `${trimDecimal(pixels / 1_000_000)} megapixels`;
}

function trimDecimal(value: number): string {
  const rounded = value.toFixed(1);
  return rounded.endsWith('.0') ? rounded.slice(0, -2) : rounded;
}

/** Replace (or add) the extension of a file name. */
export function withExtension(name: string, ext: string): string {
  const dot = name.lastIndexOf('.');
  const stem = dot > 0 ? name.slice(0, dot) : name;
  return `${stem}.${ext}`;
}
