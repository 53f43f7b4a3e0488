// The command proposed for each corpus workflow: what is recognised, and that every proposal compiles into a
// command the bot would load (the same compile step `comfycord check` runs).
import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { compileCommand, parseCommandFile } from '../../src/templates/compile.js';
import { commandFileText } from '../../src/templates/import/command-file.js';
import { convertWorkflow, type Catalogue } from '../../src/templates/import/convert.js';
import { parseExactJson } from '../../src/templates/import/exact-json.js';
import { proposeCommand, type ProposedOption } from '../../src/templates/import/propose.js';
import { parseApiWorkflow } from '../../src/templates/workflow.js';
import { buildObjectInfo } from '../fakes/comfy/object-info.js';

const catalogue = buildObjectInfo('full', {}) as unknown as Catalogue;

async function propose(name: string): Promise<{ options: ProposedOption[]; workflowText: string }> {
  const text = await readFile(new URL(`../fixtures/import/${name}.ui.json`, import.meta.url), 'utf8');
  const { workflow } = convertWorkflow(parseExactJson(text), catalogue);
  return { options: proposeCommand(workflow, catalogue), workflowText: JSON.stringify(workflow) };
}

const summary = (options: ProposedOption[]): string[] =>
  options.map(({ option }) => `${option.name}:${option.type}:${'target' in option ? option.target : ''}`);

describe('proposed commands', () => {
  it.each(['stock', 'primitives', 'reroutes', 'bypass', 'mute', 'subgraph', 'batch', 'img2img', 'inpaint', 'upscale', 'lora-chain', 'video'])(
    '%s: the proposal compiles into a loadable command',
    async (name) => {
      const { options, workflowText } = await propose(name);
      const parsed = parseCommandFile(`${name}.yaml`, commandFileText(name, `comfycord import ${name}.ui.json`, options));
      expect(parsed.ok ? [] : parsed.problems).toEqual([]);
      if (!parsed.ok) return;
      const compiled = compileCommand(`${name}.yaml`, parsed.value, parseApiWorkflow(workflowText));
      expect(compiled.ok ? [] : compiled.problems).toEqual([]);
    },
  );

  it('txt2img: prompts, sampler settings, size, batch and the checkpoint', async () => {
    const { options } = await propose('stock');
    expect(summary(options)).toEqual([
      'prompt:string:Positive.text',
      'negative:string:CLIP Text Encode (Prompt).text',
      'seed:integer:KSampler.seed',
      'steps:integer:KSampler.steps',
      'cfg:number:KSampler.cfg',
      'sampler:choice:KSampler.sampler_name',
      'scheduler:choice:KSampler.scheduler',
      'width:integer:Empty Latent Image.width',
      'height:integer:Empty Latent Image.height',
      'batch:integer:Empty Latent Image.batch_size',
      'model:choice:Load Checkpoint.ckpt_name',
    ]);
    const seed = options.find(({ option }) => option.name === 'seed')?.option;
    expect(seed).toMatchObject({ min: 0, max: 18446744073709551615n, default: 'random' });
  });

  it('img2img and inpaint: image inputs first, denoise because the latent comes from an image', async () => {
    const img2img = summary((await propose('img2img')).options);
    expect(img2img.slice(0, 2)).toEqual(['image:image:Load Image.image', 'prompt:string:6.text']);
    expect(img2img).toContain('denoise:number:KSampler.denoise');
    const inpaint = summary((await propose('inpaint')).options);
    expect(inpaint.slice(0, 2)).toEqual(['image:image:Load Image.image', 'image-2:image:Load Image (as Mask).image']);
    expect(summary((await propose('stock')).options)).not.toContain('denoise:number:KSampler.denoise');
  });

  it('follows a prompt through a PrimitiveString and into a subgraph, and numbers repeated pickers', async () => {
    expect(summary((await propose('primitives')).options)[0]).toBe('prompt:string:String.value');
    expect(summary((await propose('subgraph')).options).slice(0, 2)).toEqual(['prompt:string:Positive.text', 'negative:string:CLIP Text Encode (Prompt).text']);
    const loras = summary((await propose('lora-chain')).options).filter((line) => line.startsWith('lora'));
    expect(loras).toEqual(['lora:choice:10.lora_name', 'lora-2:choice:11.lora_name']);
    expect(summary((await propose('upscale')).options)).toContain('upscale-model:choice:Load Upscale Model.model_name');
  });

  it('says when a prompt uses dynamic-prompt syntax', async () => {
    const prompt = (await propose('video')).options.find(({ option }) => option.name === 'prompt');
    expect(prompt?.why).toContain('dynamic-prompt syntax');
  });
});
