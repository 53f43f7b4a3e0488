// Image inputs saved as files named by their SHA-256: a reroll reuses the same file, and a file is removed only
// when no job refers to it any more.
import { createHash, randomUUID } from 'node:crypto';
import { rename, writeFile } from 'node:fs/promises';
import { mkdirSync, readdirSync, renameSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';

const SHA256_NAME = /^[0-9a-f]{64}$/;

export class InputFiles {
  constructor(readonly dir: string) {
    mkdirSync(dir, { recursive: true });
  }

  pathOf(sha256: string): string {
    return join(this.dir, sha256);
  }

  /** Write once (temp file + rename, so a crash never leaves a partial file under the final name). */
  save(bytes: Buffer): { sha256: string; size: number } {
    const sha256 = InputFiles.hash(bytes);
    const path = this.pathOf(sha256);
    if (!existsSync(path)) {
      const temp = `${path}.${process.pid}.tmp`;
      writeFileSync(temp, bytes);
      renameSync(temp, path);
    }
    return { sha256, size: bytes.length };
  }

  static hash(bytes: Buffer): string {
    return createHash('sha256').update(bytes).digest('hex');
  }

  /** save(), with the write off the event loop (an input can be several megabytes). */
  async saveAsync(bytes: Buffer, sha256 = InputFiles.hash(bytes)): Promise<{ sha256: string; size: number }> {
    const path = this.pathOf(sha256);
    if (!existsSync(path)) {
      const temp = `${path}.${process.pid}.${randomUUID()}.tmp`;
      await writeFile(temp, bytes);
      await rename(temp, path);
    }
    return { sha256, size: bytes.length };
  }

  has(sha256: string): boolean {
    return existsSync(this.pathOf(sha256));
  }

  /** Delete saved files (and leftover temp files) that `isReferenced` does not claim; returns how many. */
  removeUnreferenced(isReferenced: (sha256: string) => boolean): number {
    let removed = 0;
    for (const name of readdirSync(this.dir)) {
      // A temp file is named after the file it becomes: kept while that one is claimed (a write in progress).
      if (isReferenced(name.slice(0, 64)) && (SHA256_NAME.test(name) || name.endsWith('.tmp'))) continue;
      rmSync(join(this.dir, name), { force: true });
      removed += 1;
    }
    return removed;
  }
}
