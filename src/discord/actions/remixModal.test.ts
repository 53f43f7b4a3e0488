import { describe, expect, it } from 'vitest';
import type { OptionDefinition } from '../../templates/definition.js';
import { decodeCustomId } from '../customIds.js';
import { renderRemixModal } from './remixModal.js';

const target = { nodeId: '6', matchedBy: 'title' as const, ref: 'Positive Prompt.text', input: 'text' };
const prompt: Extract<OptionDefinition, { type: 'string' }> = {
  type: 'string', name: 'prompt', description: 'What to draw', required: true, hidden: false, minLength: 0, maxLength: 1000, target,
};
const steps: Extract<OptionDefinition, { type: 'integer' }> = {
  type: 'integer', name: 'steps', description: 'steps', required: false, hidden: false, min: 1n, max: 50n, target,
};

describe('renderRemixModal', () => {
  it('prefills each named option and names the job, action and output in its custom_id', () => {
    const modal = renderRemixModal({
      jobId: 'j1', action: { name: 'vary', label: 'Vary' }, index: 2, command: 'vary',
      fields: [{ option: prompt, value: 'a cat' }, { option: steps, value: 20 }],
    });
    expect(decodeCustomId(modal.custom_id)).toEqual({ kind: 'modal', jobId: 'j1', name: 'vary', index: 2 });
    expect(modal.title).toBe('Vary 2 · /vary');
    expect(modal.components).toMatchObject([
      { components: [{ custom_id: 'prompt', label: 'prompt: What to draw', value: 'a cat', max_length: 1000, required: true, style: 2 }] },
      { components: [{ custom_id: 'steps', label: 'steps', value: '20', max_length: 100, required: false, style: 1 }] },
    ]);
  });

  it("stays within Discord's modal limits and leaves out an empty value", () => {
    const long = { ...prompt, name: 'p', description: 'd'.repeat(80), maxLength: 6000 };
    const modal = renderRemixModal({ jobId: 'j1', action: { name: 'edit', label: 'E'.repeat(60) }, command: 'c', fields: [{ option: long, value: 'x'.repeat(9000) }, { option: steps, value: undefined }] });
    expect(modal.title.length).toBeLessThanOrEqual(45);
    const [first, second] = modal.components as unknown as { components: { value?: string; max_length: number; label: string }[] }[];
    expect(first?.components[0]?.max_length).toBe(4000);
    expect(first?.components[0]?.value?.length).toBe(4000);
    expect(first?.components[0]?.label.length).toBeLessThanOrEqual(45);
    expect(second?.components[0]).not.toHaveProperty('value');
  });
});
