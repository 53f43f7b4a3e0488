import { describe, expect, it } from 'vitest';
import type { ApiWorkflow } from '../comfy/types.js';
import { missingOn, requirementsOf, whyNowhere } from './requirements.js';

const workflow: ApiWorkflow = {
  '4': { class_type: 'CheckpointLoaderSimple', inputs: { ckpt_name: 'sdxl.safetensors' } },
  '5': { class_type: 'LoraLoader', inputs: { lora_name: 'style', strength: 1, model: ['4', 0] } },
  '6': { class_type: 'CLIPTextEncode', inputs: { text: 'a cat' } },
};

describe('requirements', () => {
  it('finds node classes and models (known names and model file extensions), not prompts', () => {
    const req = requirementsOf(workflow, new Set(['style']));
    expect([...req.nodeClasses].sort()).toEqual(['CLIPTextEncode', 'CheckpointLoaderSimple', 'LoraLoader']);
    expect([...req.models].sort()).toEqual(['sdxl.safetensors', 'style']);
  });

  it('says what a backend lacks', () => {
    const req = requirementsOf(workflow, new Set());
    const nodes = new Set(['CheckpointLoaderSimple', 'LoraLoader', 'CLIPTextEncode']);
    expect(missingOn({ nodeClasses: nodes, models: new Set(['sdxl.safetensors']), folders: new Map() }, req)).toBeNull();
    expect(missingOn({ nodeClasses: nodes, models: new Set(), folders: new Map() }, req)).toBe('model sdxl.safetensors is not installed');
  });

  it('explains why no backend can run a workflow', () => {
    const req = requirementsOf(workflow, new Set());
    const all = new Set(['CheckpointLoaderSimple', 'LoraLoader', 'CLIPTextEncode']);
    expect(whyNowhere([{ nodeClasses: all, models: new Set(['other.ckpt']), folders: new Map() }], req)).toBe('model sdxl.safetensors is not installed on any backend');
    expect(whyNowhere([{ nodeClasses: new Set(['LoraLoader']), models: new Set(), folders: new Map() }], req)).toBe('node CheckpointLoaderSimple is not installed on any backend');
    expect(
      whyNowhere(
        [
          { nodeClasses: all, models: new Set(), folders: new Map() },
          { nodeClasses: new Set(['CheckpointLoaderSimple']), models: new Set(['sdxl.safetensors']), folders: new Map() },
        ],
        req,
      ),
    ).toBe('no single backend has every node and model this workflow uses');
  });
});
