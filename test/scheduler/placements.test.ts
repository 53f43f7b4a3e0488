// Placements on their own: shared by what jobs need, worked out again after an inventory change, and why nothing
// can run a workflow said only once every backend's inventory is known.
import { describe, expect, it } from 'vitest';
import { Placements } from '../../src/scheduler/placements.js';
import { BackendDouble } from './backend-double.js';
import { spec, withModel } from './helpers.js';

describe('Placements', () => {
  it('hands jobs that need the same nodes and models one placement, and places other needs on their own', () => {
    const gpus = [new BackendDouble('gpu1', { models: ['a.safetensors'] }), new BackendDouble('gpu2', { models: ['b.safetensors'] })];
    const placements = new Placements(gpus);
    const first = placements.of(spec('alice'));
    expect(placements.of(spec('bob'))).toBe(first);
    expect([...first.canRunOn].map((b) => b.name)).toEqual(['gpu1', 'gpu2']);
    const onB = placements.of(withModel('carol', 'b.safetensors'));
    expect(onB).not.toBe(first);
    expect([...onB.canRunOn].map((b) => b.name)).toEqual(['gpu2']);
  });

  it('keeps a placement until it is told an inventory changed', () => {
    const gpu = new BackendDouble('gpu1');
    const placements = new Placements([gpu]);
    const before = placements.of(spec('alice'));
    gpu.inventory = { ...gpu.inventory!, nodeClasses: new Set(['SaveImage']) };
    expect(placements.of(spec('alice'))).toBe(before);
    placements.forget();
    const after = placements.of(spec('alice'));
    expect(after.canRunOn.size).toBe(0);
    expect(placements.whyNowhere(after)).toContain('node KSampler is not installed');
  });

  it('says nothing can run a workflow only once every backend has told what it has', () => {
    const known = new BackendDouble('gpu1', { nodes: ['SaveImage'] });
    const starting = new BackendDouble('gpu2');
    starting.inventory = undefined;
    const placements = new Placements([known, starting]);
    expect(placements.whyNowhere(placements.of(spec('alice')))).toBeNull();
    starting.inventory = known.inventory;
    placements.forget();
    expect(placements.whyNowhere(placements.of(spec('alice')))).toContain('node KSampler is not installed');
  });
});
