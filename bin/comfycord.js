#!/usr/bin/env node
// Launcher. In a checkout (the TypeScript sources and tsx are there) it always runs the sources, so a dist/ left
// behind by an earlier `npm start` can never run stale code; elsewhere (the Docker image ships only dist/) it runs
// the compiled CLI.
import { existsSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { dirname, join } from 'node:path';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const sources = join(root, 'src', 'cli', 'index.ts');
const built = join(root, 'dist', 'src', 'cli', 'index.js');

/** tsx's loader API, or undefined when tsx is not installed (a production install). */
async function loadTsx() {
  try {
    return await import('tsx/esm/api');
  } catch (error) {
    if (error?.code === 'ERR_MODULE_NOT_FOUND') return undefined;
    throw error;
  }
}

const tsx = existsSync(sources) ? await loadTsx() : undefined;
if (tsx) {
  tsx.register();
  await import(pathToFileURL(sources).href);
} else if (existsSync(built)) {
  await import(pathToFileURL(built).href);
} else {
  process.stderr.write(
    `comfycord: nothing to run in ${root}: build dist/ with "npm run build", or install tsx to run the TypeScript sources\n`,
  );
  process.exitCode = 1;
}
