import { describe, expect, it } from 'vitest';
import { command } from '../../test/templates/support.js';
import { choicesFor, filterChoices } from './choices.js';
import type { ServerInfo } from './server-info.js';

const definition = command(`
name: imagine
description: d
template: t.json
options:
  - {name: model, type: choice, choices_from: models/checkpoints, target: Load Checkpoint.ckpt_name}
  - {name: sampler, type: choice, choices_from: object_info/KSampler/sampler_name, target: KSampler.sampler_name}
  - {name: scheduler, type: choice, choices_from: object_info/KSampler/scheduler, target: KSampler.scheduler}
  - {name: size, type: choice, choices: [Square, Portrait, Landscape], target: Empty Latent Image.width}
  - {name: steps, type: integer, target: KSampler.steps}
`);

// 60 models: more than Discord's 25, so only filtering makes all of them reachable.
const models = Array.from({ length: 60 }, (_, i) => `${i % 2 ? 'sdxl' : 'sd15'}/model-${String(i).padStart(2, '0')}.safetensors`);

const server: ServerInfo & { calls: string[] } = {
  calls: [],
  async models(folder) {
    this.calls.push(`models/${folder}`);
    return folder === 'checkpoints' ? models : [];
  },
  async objectInfo(nodeClass) {
    this.calls.push(`object_info/${nodeClass}`);
    // KSampler in the classic shape for sampler_name and the v3 COMBO shape for scheduler.
    return {
      [nodeClass]: {
        input: {
          required: {
            sampler_name: [['euler', 'euler_ancestral', 'dpmpp_2m', 'dpmpp_2m_sde'], {}],
            scheduler: ['COMBO', { options: ['normal', 'karras', 'exponential'] }],
          },
        },
      },
    };
  },
};

describe('choicesFor', () => {
  it('shows at most 25 of a long live list', async () => {
    const shown = await choicesFor(definition, 'model', server, '');
    expect(shown).toHaveLength(25);
    expect(shown[0]).toEqual({ name: models[0], value: models[0] });
  });

  it('filters case-insensitively so entries beyond the first 25 can be reached', async () => {
    const shown = await choicesFor(definition, 'model', server, 'MODEL-5');
    expect(shown.map((choice) => choice.value)).toEqual(models.filter((model) => model.includes('model-5')));
    expect(shown.map((choice) => choice.value)).toContain('sdxl/model-59.safetensors');
  });

  it('puts prefix matches before matches inside the name', async () => {
    const shown = await choicesFor(definition, 'sampler', server, 'euler');
    expect(shown.map((choice) => choice.value)).toEqual(['euler', 'euler_ancestral']);
    const inner = await choicesFor(definition, 'sampler', server, 'sde');
    expect(inner.map((choice) => choice.value)).toEqual(['dpmpp_2m_sde']);
    const mixed = filterChoices(['a-sd', 'sdxl', 'b-sd', 'sd15'], 'SD');
    expect(mixed.map((choice) => choice.value)).toEqual(['sdxl', 'sd15', 'a-sd', 'b-sd']);
  });

  it('reads the v3 COMBO shape', async () => {
    const shown = await choicesFor(definition, 'scheduler', server, 'K');
    expect(shown.map((choice) => choice.value)).toEqual(['karras']);
  });

  it('filters fixed choices too', async () => {
    expect(await choicesFor(definition, 'size', server, 'land')).toEqual([{ name: 'Landscape', value: 'Landscape' }]);
  });

  it('leaves out values Discord cannot carry (over 100 characters)', () => {
    expect(filterChoices(['x'.repeat(101), 'ok'], '')).toEqual([{ name: 'ok', value: 'ok' }]);
  });

  it('refuses an option that is not a choice, or unknown', async () => {
    await expect(choicesFor(definition, 'steps', server, '')).rejects.toThrow('/imagine has no choice option "steps"');
    await expect(choicesFor(definition, 'nope', server, '')).rejects.toThrow('/imagine has no choice option "nope"');
  });

  it('says so when the server has no such list', async () => {
    const empty: ServerInfo = { models: async () => [], objectInfo: async () => ({}) };
    await expect(choicesFor(definition, 'sampler', empty, '')).rejects.toThrow('the server has no list for KSampler.sampler_name');
  });
});
