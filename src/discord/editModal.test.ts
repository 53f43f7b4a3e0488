import { describe, expect, it } from 'vitest';
import { decodeCustomId } from './customIds.js';
import { PROMPT_FIELD_ID, renderEditModal } from './editModal.js';

describe('renderEditModal', () => {
  it('prefills the prompt and names the job in its custom_id', () => {
    const modal = renderEditModal({ jobId: 'j1', command: 'imagine', prompt: 'a cat', maxLength: 1000 });
    expect(decodeCustomId(modal.custom_id)).toEqual({ kind: 'modal', jobId: 'j1', action: 'edit' });
    expect(modal.title).toBe('Edit and run /imagine again');
    expect(modal.components[0]).toMatchObject({ components: [{ custom_id: PROMPT_FIELD_ID, value: 'a cat', max_length: 1000, required: true }] });
  });

  it("stays within Discord's modal limits", () => {
    const modal = renderEditModal({ jobId: 'j1', command: 'c'.repeat(32), prompt: 'p'.repeat(9000), maxLength: 6000 });
    expect(modal.title.length).toBeLessThanOrEqual(45);
    const input = (modal.components[0] as { components: { value: string; max_length: number }[] }).components[0];
    expect(input?.max_length).toBe(4000);
    expect(input?.value.length).toBe(4000);
    const short = renderEditModal({ jobId: 'j1', command: 'c', prompt: 'abcdef', maxLength: 3 });
    expect((short.components[0] as { components: { value: string }[] }).components[0]?.value).toBe('abc');
  });
});
