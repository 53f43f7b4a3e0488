// The import corpus: hand-written UI-format workflows, each converted with the recorded /object_info, accepted by
// the fake ComfyUI's /prompt validation, and equal to an API file written by hand from the frontend's rules.
// Also the UI twins of the shipped templates, which must convert back to the shipped files.
import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import type { Catalogue } from '../../src/templates/import/convert.js';
import { convertWorkflow } from '../../src/templates/import/convert.js';
import { parseExactJson } from '../../src/templates/import/exact-json.js';
import { buildObjectInfo } from '../fakes/comfy/object-info.js';
import { validatePrompt } from '../fakes/comfy/validate.js';

const FIXTURES = new URL('../fixtures/import/', import.meta.url);
const MODELS = {
  checkpoints: ['sd15.safetensors', 'v1-5-pruned-emaonly.safetensors'],
  loras: ['detail.safetensors', 'style.safetensors'],
  upscale_models: ['4x-UltraSharp.pth'],
};
const info = buildObjectInfo('full', MODELS);
const catalogue = info as unknown as Catalogue;

async function load(name: string): Promise<unknown> {
  return parseExactJson(await readFile(new URL(name, FIXTURES), 'utf8'));
}

function fakeValidation(workflow: unknown): void {
  const result = validatePrompt(structuredClone(workflow) as Record<string, unknown>, {
    info,
    missingNodeType: true,
    imageExists: () => true,
    partialTargets: undefined,
  });
  expect(result.ok ? result.nodeErrors : result.body).toEqual({});
}

const CORPUS = ['stock', 'primitives', 'reroutes', 'bypass', 'mute', 'subgraph', 'batch', 'img2img', 'inpaint', 'upscale', 'lora-chain', 'video'];

describe('import corpus (UI format → API format)', () => {
  it.each(CORPUS)('%s converts to the hand-derived API file and passes the fake ComfyUI validation', async (name) => {
    const conversion = convertWorkflow(await load(`${name}.ui.json`), catalogue);
    expect(conversion.problems).toEqual([]);
    expect(conversion.format).toBe('ui');
    expect(conversion.workflow).toEqual(JSON.parse(await readFile(new URL(`${name}.api.json`, FIXTURES), 'utf8')));
    fakeValidation(conversion.workflow);
  });

  it('keeps a seed above 2^53 exact (as a decimal string, like every comfycord integer beyond 2^53-1)', async () => {
    const { workflow } = convertWorkflow(await load('stock.ui.json'), catalogue);
    expect(workflow['3']?.inputs.seed).toBe('1125899906842624123');
  });

  it('says that dynamic-prompt syntax is left as written', async () => {
    const { notes } = convertWorkflow(await load('video.ui.json'), catalogue);
    expect(notes.some((note) => note.includes('node 6') && note.includes('dynamic-prompt'))).toBe(true);
  });

  it('passes an API-format file through unchanged', async () => {
    const api = JSON.parse(await readFile(new URL('../../templates/txt2img.json', import.meta.url), 'utf8'));
    const conversion = convertWorkflow(api, catalogue);
    expect(conversion).toMatchObject({ format: 'api', problems: [], workflow: api });
  });
});

describe('UI twins of the shipped templates', () => {
  it.each(['txt2img', 'img2img', 'outpaint', 'resize', 'upscale-model'])('%s converts back to templates/%s.json', async (name) => {
    const conversion = convertWorkflow(await load(`twins/${name}.ui.json`), catalogue);
    expect(conversion.problems).toEqual([]);
    const shipped = JSON.parse(await readFile(new URL(`../../templates/${name}.json`, import.meta.url), 'utf8'));
    expect(conversion.workflow).toEqual(shipped);
  });
});
