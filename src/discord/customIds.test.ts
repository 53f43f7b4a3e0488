import { describe, expect, it } from 'vitest';
import { CUSTOM_ID_MAX, CustomIdError, decodeCustomId, encodeCustomId, type JobComponentId } from './customIds.js';

describe('custom ids', () => {
  const samples: JobComponentId[] = [
    { kind: 'button', jobId: '01JABCDEF', action: 'cancel' },
    { kind: 'button', jobId: 'a-b_c', action: 'run', name: 'reroll' },
    { kind: 'button', jobId: 'x', action: 'run', name: 'edit' },
    { kind: 'button', jobId: 'x', action: 'delete' },
    { kind: 'button', jobId: 'x', action: 'run', name: 'upscale', index: 4 },
    { kind: 'modal', jobId: 'x', name: 'edit' },
    { kind: 'modal', jobId: 'x', name: 'zoom-out', index: 2 },
    { kind: 'button', jobId: 'x', action: 'pick', index: 3 },
    { kind: 'button', jobId: 'x', action: 'files' },
  ];

  it.each(samples)('round-trips %o', (id) => {
    const encoded = encodeCustomId(id);
    expect(encoded.length).toBeLessThanOrEqual(CUSTOM_ID_MAX);
    expect(decodeCustomId(encoded)).toEqual(id);
  });

  it('uses the documented layout', () => {
    expect(encodeCustomId({ kind: 'button', jobId: 'j1', action: 'cancel' })).toBe('job:j1:cancel');
    expect(encodeCustomId({ kind: 'button', jobId: 'j1', action: 'run', name: 'upscale', index: 2 })).toBe('job:j1:upscale:2');
  });

  it('reads the buttons of cards made before actions were declared in command files', () => {
    expect(decodeCustomId('job:j1:reroll')).toEqual({ kind: 'button', jobId: 'j1', action: 'run', name: 'reroll' });
    expect(decodeCustomId('job:j1:upscale:3')).toEqual({ kind: 'button', jobId: 'j1', action: 'run', name: 'upscale', index: 3 });
    expect(decodeCustomId('jobmodal:j1:edit')).toEqual({ kind: 'modal', jobId: 'j1', name: 'edit' });
  });

  it('stays within 100 characters for the longest job id', () => {
    const id = encodeCustomId({ kind: 'button', jobId: 'a'.repeat(64), action: 'run', name: 'a'.repeat(20), index: 99 });
    expect(id.length).toBeLessThanOrEqual(CUSTOM_ID_MAX);
  });

  it('refuses job ids and indexes that cannot round-trip', () => {
    expect(() => encodeCustomId({ kind: 'button', jobId: 'a:b', action: 'cancel' })).toThrow(CustomIdError);
    expect(() => encodeCustomId({ kind: 'button', jobId: '', action: 'cancel' })).toThrow(/cannot go into a custom_id/);
    expect(() => encodeCustomId({ kind: 'button', jobId: 'a'.repeat(65), action: 'cancel' })).toThrow(CustomIdError);
    expect(() => encodeCustomId({ kind: 'button', jobId: 'j', action: 'run', name: 'upscale', index: 0 })).toThrow(/upscale index 0/);
    expect(() => encodeCustomId({ kind: 'button', jobId: 'j', action: 'run', name: 'upscale', index: 1.5 })).toThrow(CustomIdError);
    expect(() => encodeCustomId({ kind: 'button', jobId: 'j', action: 'run', name: 'cancel' })).toThrow(CustomIdError);
    expect(() => encodeCustomId({ kind: 'button', jobId: 'j', action: 'run', name: 'Zoom Out' })).toThrow(CustomIdError);
  });

  it.each([
    '',
    'job',
    'job:',
    'job::cancel',
    'job:j1',
    'job:j1:Explode',
    'job:j1:cancel:1',
    'job:j1:upscale:0',
    'job:j1:upscale:01',
    'job:j1:upscale:100',
    'job:j1:upscale:-1',
    'job:j1:upscale:1:x',
    'job:j 1:cancel',
    'jobmodal:j1:cancel',
    'jobmodal:j1:delete',
    'job:j1:pick',
    'jobmodal:j1:pick:1',
    'job:j1:files:1',
    `job:j1:${'a'.repeat(21)}`,
    'other:j1:cancel',
    `job:${'a'.repeat(120)}:cancel`,
    'job:j1:__proto__',
    'job:j1:-x',
  ])('rejects %j', (garbage) => {
    expect(decodeCustomId(garbage)).toBeNull();
  });

  it('rejects values that are not strings', () => {
    expect(decodeCustomId(undefined)).toBeNull();
    expect(decodeCustomId(42)).toBeNull();
    expect(decodeCustomId({ toString: () => 'job:j:cancel' })).toBeNull();
  });
});
