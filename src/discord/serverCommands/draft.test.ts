import { describe, expect, it } from 'vitest';
import type { ProposedOption } from '../../templates/import/propose.js';
import { applyLimits, decodeDraftCustomId, draftCustomId, Drafts, DRAFT_LIFETIME_MS, keptOptions, renderDraft, renderDraftModal, setDescription } from './draft.js';

const options = (): ProposedOption[] => [
  { option: { name: 'prompt', type: 'string', description: 'Prompt', required: true, target: '6.text' }, why: 'text' },
  { option: { name: 'steps', type: 'integer', description: 'Steps', min: 1, max: 100, default: 40, target: '3.steps' }, why: 'steps' },
  { option: { name: 'cfg', type: 'number', description: 'CFG', min: 0, max: 30, default: 7, target: '3.cfg' }, why: 'cfg' },
];

function draft() {
  return new Drafts().create({ guildId: '1', userId: '2', name: 'fox', source: 'fox.json', workflow: {}, options: options(), notes: [], server: { objectInfo: async () => undefined, models: async () => [] } }, 0);
}

describe('a server command draft', () => {
  it('belongs to the admin who started it, until it expires', () => {
    const drafts = new Drafts();
    const made = drafts.create({ guildId: '1', userId: '2', name: 'fox', source: 'fox.json', workflow: {}, options: options(), notes: [], server: { objectInfo: async () => undefined, models: async () => [] } }, 1000);
    expect(drafts.get(made.id, '2', 1000)).toBe(made);
    expect(drafts.get(made.id, '3', 1000)).toBeUndefined();
    expect(drafts.get(made.id, '2', 1000 + DRAFT_LIFETIME_MS)).toBeUndefined();
    expect(decodeDraftCustomId(draftCustomId(made.id, 'save'))).toEqual({ draftId: made.id, action: 'save' });
    expect(decodeDraftCustomId(`srvcmd:${made.id}:explode`)).toBeNull();
    expect(decodeDraftCustomId('job:abc:reroll')).toBeNull();
  });

  it('offers every option in one select menu, the kept ones selected', () => {
    const d = draft();
    d.kept.delete('cfg');
    const [selectRow] = renderDraft(d).components;
    const select = selectRow!.components[0] as { max_values: number; options: { value: string; default: boolean }[] };
    expect(select.max_values).toBe(3);
    expect(select.options.map((o) => [o.value, o.default])).toEqual([['prompt', true], ['steps', true], ['cfg', false]]);
    expect(keptOptions(d).map((o) => o.option.name)).toEqual(['prompt', 'steps']);
  });

  it('applies maxima to kept number options, bringing the default within', () => {
    const d = draft();
    expect(applyLimits(d, 'steps 30, cfg<=10')).toBeNull();
    expect(keptOptions(d).map((o) => [o.option.name, 'max' in o.option ? o.option.max : null, 'default' in o.option ? o.option.default : null])).toEqual([
      ['prompt', null, null],
      ['steps', 30, 30],
      ['cfg', 10, 7],
    ]);
  });

  it("prefills the form with the maxima, leaving out a seed's 64-bit range", () => {
    const d = draft();
    d.options.push({ option: { name: 'seed', type: 'integer', description: 'Seed', min: 0, max: 18446744073709551615n, default: 'random', target: '3.seed' }, why: 'seed' });
    d.kept.add('seed');
    const limits = JSON.stringify(renderDraftModal(d).components[1]);
    expect(limits).toContain('steps 100, cfg 30');
    expect(limits).not.toContain('seed');
    expect(applyLimits(d, 'seed 18446744073709551615')).toMatch(/too large for a limit/);
  });

  it('refuses limits it cannot apply, changing nothing', () => {
    const d = draft();
    expect(applyLimits(d, 'steps 30, prompt 5')).toBe('"prompt" is not a kept number option of /fox');
    expect(applyLimits(d, 'steps 0')).toBe('steps: the maximum 0 is below its minimum 1');
    expect(applyLimits(d, 'steps 2.5')).toMatch(/whole numbers/);
    expect(applyLimits(d, 'steps lots')).toMatch(/is not "option maximum"/);
    d.kept.delete('cfg');
    expect(applyLimits(d, 'cfg 3')).toMatch(/not a kept number option/);
    expect(keptOptions(d).find((o) => o.option.name === 'steps')?.option).toMatchObject({ max: 100, default: 40 });
    expect(setDescription(d, '   ')).toMatch(/cannot be empty/);
    expect(setDescription(d, 'Foxes')).toBeNull();
    expect(d.description).toBe('Foxes');
  });
});
