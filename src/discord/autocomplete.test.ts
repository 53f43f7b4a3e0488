import { describe, expect, it } from 'vitest';
import { autocompleteChoices } from './autocomplete.js';

const models = ['sd_xl_base_1.0.safetensors', 'v1-5-pruned-emaonly.safetensors', 'SDXL/juggernaut.safetensors', 'dreamshaper_8.safetensors'];

describe('autocompleteChoices', () => {
  it('lists prefix matches before matches elsewhere, case-insensitively', () => {
    expect(autocompleteChoices(models, 'SD').map((c) => c.value)).toEqual(['sd_xl_base_1.0.safetensors', 'SDXL/juggernaut.safetensors']);
    expect(autocompleteChoices(models, 'jugg').map((c) => c.value)).toEqual(['SDXL/juggernaut.safetensors']);
    expect(autocompleteChoices(models, 'xl').map((c) => c.value)).toEqual(['sd_xl_base_1.0.safetensors', 'SDXL/juggernaut.safetensors']);
  });

  it('offers the first 25 when nothing is typed, and nothing for no match', () => {
    const many = Array.from({ length: 40 }, (_, i) => `m${i}`);
    expect(autocompleteChoices(many, '')).toHaveLength(25);
    expect(autocompleteChoices(many, '  ')[0]).toEqual({ name: 'm0', value: 'm0' });
    expect(autocompleteChoices(models, 'zzz')).toEqual([]);
  });

  it('skips values Discord cannot carry and duplicates', () => {
    expect(autocompleteChoices(['', 'a'.repeat(101), 'ok', 'ok'], '')).toEqual([{ name: 'ok', value: 'ok' }]);
  });
});
