// What each output node class writes to disk and reports as its UI dict (`executed.output`, history `outputs`).
import { randomInt } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { animatedWebp, emptyFlac, mp4Stub, pngImage, webmStub } from './media.js';
import type { FolderType, Storage } from './storage.js';

export type NodeOutput = Record<string, unknown>;

export interface OutputRequest {
  classType: string;
  inputs: Record<string, unknown>;
  width: number;
  height: number;
  /** Images in the batch reaching the node (an upstream batch_size): SaveImage and PreviewImage write one file each. */
  batch?: number;
  /** Seeds the pixels: the node's cache signature, so different upstream values give different bytes. */
  seed: string;
  /** zlib level of PNG outputs (the fake's `pngCompressionLevel`). */
  pngCompressionLevel?: number;
}

interface SavedFile {
  filename: string;
  subfolder: string;
  type: FolderType;
}

type Writer = (storage: Storage, request: OutputRequest) => Promise<NodeOutput>;

async function save(
  storage: Storage,
  type: FolderType,
  prefix: string,
  ext: string,
  bytes: Buffer | Promise<Buffer>,
): Promise<SavedFile> {
  const target = storage.nextOutputName(type, prefix, ext);
  writeFileSync(path.join(target.dir, target.filename), await bytes);
  return { filename: target.filename, subfolder: target.subfolder, type };
}

function prefixOf(request: OutputRequest, fallback: string): string {
  const prefix = request.inputs['filename_prefix'];
  return typeof prefix === 'string' ? prefix : fallback;
}

/** PreviewImage's per-instance temp prefix: `ComfyUI_temp_` + five random lowercase letters. */
function tempPrefix(): string {
  let letters = '';
  for (let i = 0; i < 5; i++) letters += String.fromCharCode(97 + randomInt(26));
  return `ComfyUI_temp_${letters}`;
}

/** One PNG per image of the batch, as ComfyUI's SaveImage/PreviewImage do (`prefix_00001_.png`, `_00002_`, ...). */
async function saveBatch(storage: Storage, type: FolderType, prefix: string, r: OutputRequest): Promise<SavedFile[]> {
  const files: SavedFile[] = [];
  for (let i = 0; i < (r.batch ?? 1); i++) files.push(await save(storage, type, prefix, 'png', pngImage(r.width, r.height, i === 0 ? r.seed : `${r.seed}#${i}`, r.pngCompressionLevel)));
  return files;
}

const preview: Writer = async (storage, r) => ({ images: await saveBatch(storage, 'temp', tempPrefix(), r) });

const WRITERS: Readonly<Record<string, Writer>> = {
  SaveImage: async (storage, r) => ({ images: await saveBatch(storage, 'output', prefixOf(r, 'ComfyUI'), r) }),
  PreviewImage: preview,
  MaskPreview: preview,
  SaveAnimatedWEBP: async (storage, r) => ({
    images: [await save(storage, 'output', prefixOf(r, 'ComfyUI'), 'webp', animatedWebp(r.width, r.height, r.seed))],
    animated: [true],
  }),
  SaveAnimatedPNG: async (storage, r) => ({
    images: [await save(storage, 'output', prefixOf(r, 'ComfyUI'), 'png', pngImage(r.width, r.height, r.seed, r.pngCompressionLevel))],
    animated: [true],
  }),
  SaveWEBM: async (storage, r) => ({
    images: [await save(storage, 'output', prefixOf(r, 'ComfyUI'), 'webm', webmStub())],
    animated: [true],
  }),
  SaveVideo: async (storage, r) => ({
    images: [await save(storage, 'output', prefixOf(r, 'video/ComfyUI'), 'mp4', mp4Stub())],
    animated: [true],
  }),
  SaveAudio: async (storage, r) => ({
    audio: [await save(storage, 'output', prefixOf(r, 'audio/ComfyUI'), 'flac', emptyFlac())],
  }),
  PreviewAny: async (_storage, r) => ({ text: [`preview of ${JSON.stringify(r.inputs['source'] ?? null)}`] }),
};

/** Runs the output side of a node; undefined for nodes without UI output. Throws ComfyUI's run-time errors. */
export async function writeOutputs(storage: Storage, request: OutputRequest): Promise<NodeOutput | undefined> {
  const writer = WRITERS[request.classType];
  return writer ? writer(storage, request) : undefined;
}
