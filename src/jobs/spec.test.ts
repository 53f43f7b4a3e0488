import { describe, expect, it } from 'vitest';
import type { PreparedJob } from '../templates/prepare.js';
import { jobSpecFromPrepared } from './spec.js';

const target = { nodeId: '10', matchedBy: 'id' as const, ref: '10.image', input: 'image' };
const prepared: PreparedJob = {
  command: 'edit',
  workflow: { '10': { class_type: 'LoadImage', inputs: { image: 'x.png' } } },
  params: { seed: 3 },
  images: [{ option: 'init', target, ref: 'attachment-1' }],
  choices: [],
  outputs: ['12'],
};
const owner = { userId: 'u', guildId: 'g', roles: [] };

describe('jobSpecFromPrepared', () => {
  it('carries each image’s bytes with its target, plus params, outputs and the command’s limits', () => {
    const spec = jobSpecFromPrepared(prepared, owner, { init: { filename: 'cat.png', bytes: Buffer.from('png') } }, { perUserQueued: 1 });
    expect(spec.images).toEqual([{ option: 'init', filename: 'cat.png', bytes: Buffer.from('png'), target }]);
    expect(spec).toMatchObject({ command: 'edit', params: { seed: 3 }, outputs: ['12'], commandLimits: { perUserQueued: 1 } });
  });

  it('names an image option that has no file', () => {
    expect(() => jobSpecFromPrepared(prepared, owner, {})).toThrow('/edit: image option "init" has no file');
  });
});
