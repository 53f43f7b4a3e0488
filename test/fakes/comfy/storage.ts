// The fake's input/output/temp folders (a private temp directory per fake) and ComfyUI's naming rules on them.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

export type FolderType = 'input' | 'output' | 'temp';

export function isFolderType(value: string): value is FolderType {
  return value === 'input' || value === 'output' || value === 'temp';
}

export class Storage {
  readonly root = mkdtempSync(path.join(tmpdir(), 'fake-comfy-'));

  constructor() {
    for (const type of ['input', 'output', 'temp'] as const) mkdirSync(this.base(type));
  }

  base(type: FolderType): string {
    return path.join(this.root, type);
  }

  /** The directory for `subfolder` inside `type`, or undefined when it escapes the base directory. */
  folder(type: FolderType, subfolder: string): string | undefined {
    const base = this.base(type);
    const dir = path.resolve(base, subfolder);
    return dir === base || dir.startsWith(base + path.sep) ? dir : undefined;
  }

  /** A file inside `type/subfolder`, or undefined when the path escapes it. */
  file(type: FolderType, subfolder: string, filename: string): string | undefined {
    const dir = this.folder(type, subfolder);
    if (!dir) return undefined;
    const file = path.resolve(dir, filename);
    return file.startsWith(dir + path.sep) ? file : undefined;
  }

  /** Every input file as LoadImage's combo lists it (`sub/name.png`). */
  inputFiles(): string[] {
    const base = this.base('input');
    return (readdirSync(base, { recursive: true, withFileTypes: true }) as import('node:fs').Dirent[])
      .filter((entry) => entry.isFile())
      .map((entry) => path.relative(base, path.join(entry.parentPath, entry.name)).split(path.sep).join('/'));
  }

  /** LoadImage's `image` value: `sub/name.png`, optionally annotated `name.png [output]`. */
  imageExists(value: string): boolean {
    const file = this.imageFile(value);
    return file !== undefined && existsSync(file);
  }

  /** Width and height of a PNG named like LoadImage's `image` value (read from its IHDR chunk). */
  imageDimensions(value: string): { width: number; height: number } | undefined {
    const file = this.imageFile(value);
    if (!file || !existsSync(file)) return undefined;
    const head = readFileSync(file).subarray(0, 24);
    if (head.length < 24 || head.toString('latin1', 1, 4) !== 'PNG') return undefined;
    return { width: head.readUInt32BE(16), height: head.readUInt32BE(20) };
  }

  private imageFile(value: string): string | undefined {
    const match = /^(.*) \[(input|output|temp)\]$/.exec(value);
    const type: FolderType = match ? (match[2] as FolderType) : 'input';
    return this.file(type, '', match ? match[1]! : value);
  }

  /**
   * Store an upload like `image_upload`: identical bytes under an existing name are a duplicate (same name),
   * different bytes get `stem (1).ext`, `stem (2).ext`, ... unless `overwrite`.
   */
  storeUpload(dir: string, filename: string, bytes: Buffer, overwrite: boolean): string {
    mkdirSync(dir, { recursive: true });
    const ext = path.extname(filename);
    const stem = filename.slice(0, filename.length - ext.length);
    let name = filename;
    for (let i = 1; !overwrite && existsSync(path.join(dir, name)); i++) {
      if (sha256(readFileSync(path.join(dir, name))) === sha256(bytes)) return name;
      name = `${stem} (${i})${ext}`;
    }
    writeFileSync(path.join(dir, name), bytes);
    return name;
  }

  /**
   * Reserve the next `prefix_NNNNN_.ext` name like `folder_paths.get_save_image_path`; `prefix` may carry a
   * subfolder (`sub/name`). Throws ComfyUI's message when the prefix leaves the folder.
   */
  nextOutputName(type: FolderType, prefix: string, ext: string): { dir: string; subfolder: string; filename: string } {
    const base = this.base(type);
    const full = path.resolve(base, prefix);
    const dir = path.dirname(full);
    if (dir !== base && !dir.startsWith(base + path.sep)) {
      throw new Error(
        `**** ERROR: Saving image outside the output folder is not allowed.\n full_output_folder: ${dir}\n         output_dir: ${base}\n         commonpath: ${commonPath(dir, base)}\n`,
      );
    }
    mkdirSync(dir, { recursive: true });
    const stem = path.basename(full);
    const pattern = new RegExp(`^${escapeRegExp(stem)}_(\\d{5,})_`);
    let counter = 0;
    for (const existing of readdirSync(dir)) {
      const found = pattern.exec(existing);
      if (found) counter = Math.max(counter, Number(found[1]));
    }
    const filename = `${stem}_${String(counter + 1).padStart(5, '0')}_.${ext}`;
    return { dir, subfolder: path.relative(base, dir).split(path.sep).join('/'), filename };
  }

  /** Temp files do not survive a ComfyUI restart (`cleanup_temp`). */
  clearTemp(): void {
    rmSync(this.base('temp'), { recursive: true, force: true });
    mkdirSync(this.base('temp'));
  }

  remove(): void {
    rmSync(this.root, { recursive: true, force: true });
  }
}

function sha256(bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest('hex');
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

function commonPath(a: string, b: string): string {
  const left = a.split(path.sep);
  const right = b.split(path.sep);
  let i = 0;
  while (i < left.length && left[i] === right[i]) i++;
  return left.slice(0, i).join(path.sep) || path.sep;
}
