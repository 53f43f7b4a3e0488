import { describe, expect, it } from 'vitest';
import { command } from '../../test/templates/support.js';
import { actionValues, linkActions } from './actions.js';
import type { CommandDefinition } from './definition.js';
import type { Problem } from './errors.js';

const imagine = command(`name: imagine
description: Make a picture
template: t.json
options:
  - {name: prompt, type: string, required: true, max_length: 100, target: Positive Prompt.text}
  - {name: seed, type: integer, min: 0, max: 1000, default: random, target: KSampler.seed}
  - {name: steps, type: integer, min: 1, max: 50, default: 20, target: KSampler.steps}
  - {name: model, type: string, hidden: true, value: sd15, target: Load Checkpoint.ckpt_name}
`);
const vary = command(`name: vary
description: Vary a picture
template: t.json
options:
  - {name: image, type: image, required: true, target: Load Image.image}
  - {name: prompt, type: string, required: true, target: Positive Prompt.text}
  - {name: strength, type: number, min: 0.1, max: 1, step: 0.05, default: 0.5, target: KSampler.denoise}
  - {name: seed, type: integer, min: 0, max: 1000, default: random, target: KSampler.seed}
`);
const commands = new Map<string, CommandDefinition>([['imagine', imagine], ['vary', vary]]);

function link(actions: unknown[]): { names: string[]; problems: Problem[] } {
  const result = linkActions(imagine, actions, commands);
  return { names: result.actions.map((action) => action.name), problems: result.problems };
}

describe('linkActions', () => {
  it('compiles actions with their defaults and bindings', () => {
    const { actions, problems } = linkActions(imagine, [
      { name: 'reroll', inherit: true, with: { seed: '$random' } },
      { name: 'vary', label: 'V{n}', emoji: '🎨', style: 'success', command: 'vary', per: 'output', remix: true, with: { image: '$output', prompt: '$parent.prompt', strength: 0.35 } },
    ], commands);
    expect(problems).toEqual([]);
    expect(actions).toEqual([
      { name: 'reroll', label: 'reroll', style: 'secondary', command: 'imagine', per: 'job', inherit: true, remix: [], bindings: { seed: { kind: 'random' } } },
      {
        name: 'vary', label: 'V{n}', emoji: '🎨', style: 'success', command: 'vary', per: 'output', inherit: false, remix: ['prompt'],
        bindings: { image: { kind: 'output' }, prompt: { kind: 'parent', option: 'prompt' }, strength: { kind: 'value', value: 0.35 } },
      },
    ]);
  });

  it.each([
    [{ name: 'x', command: 'nope' }, 'runs /nope, which is not a loaded command'],
    [{ name: 'x', with: { sampler: 'euler' } }, 'with.sampler: /imagine has no option "sampler"'],
    [{ name: 'x', with: { model: 'other' } }, 'with.model: the option is hidden (fixed by /imagine)'],
    [{ name: 'x', with: { steps: '$output' } }, 'with.steps: $output is an image and "steps" is an integer option'],
    [{ name: 'x', command: 'vary', with: { image: '$output', prompt: 'p' } }, 'with.image: $output needs "per: output" or "per: image" (a button for an image)'],
    [{ name: 'x', with: { prompt: '$random' } }, 'with.prompt: $random draws a whole number and "prompt" is a string option'],
    [{ name: 'x', with: { prompt: '$parent.colour' } }, 'with.prompt: /imagine has no option "colour"'],
    [{ name: 'x', with: { steps: '$seed' } }, 'with.steps: unknown binding $seed (use $output, $random, $parent.<option> or a constant)'],
    [{ name: 'x', with: { steps: 80 } }, 'with.steps: steps must be between 1 and 50 (got 80)'],
    [{ name: 'x', command: 'vary', per: 'output', with: { image: '$output' } }, '/vary requires "prompt", which the action does not give (with: or inherit: true)'],
    [{ name: 'x', command: 'vary', per: 'output', with: { image: 'cat.png', prompt: 'p' } }, 'with.image: an image option takes $output or $parent.<image option>'],
    [{ name: 'x', command: 'vary', per: 'output', remix: ['image'], with: { image: '$output', prompt: 'p' } }, 'remix: "image" is an image; a modal edits text'],
    [{ name: 'cancel' }, '"cancel" is the card\'s own button'],
    [{ name: 'Reroll' }, 'name: must be 1-20 characters: a-z, 0-9, "-" or "_", starting with a letter or digit'],
    [{ name: 'x', colour: 'red' }, 'Unrecognized key: "colour"'],
  ])('skips %j: %s', (raw, message) => {
    const { names, problems } = link([raw, { name: 'ok', inherit: true }]);
    expect(names).toEqual(['ok']);
    expect(problems).toEqual([{ file: imagine.file, action: (raw as { name: string }).name, message }]);
  });

  it('skips a second action of the same name and actions beyond five rows', () => {
    const perOutput = Array.from({ length: 5 }, (_, i) => ({ name: `o${i}`, command: 'vary', per: 'output', with: { image: '$output', prompt: '$parent.prompt' } }));
    const { names, problems } = link([{ name: 'a', inherit: true }, { name: 'a', inherit: true }, ...perOutput]);
    expect(names).toEqual(['a', 'o0', 'o1', 'o2']);
    const tooMany = 'too many buttons: Discord shows at most 5 rows of 5 (each per-output action takes a row)';
    expect(problems.map((p) => [p.action, p.message])).toEqual([['a', 'the name is used by another action'], ['o3', tooMany], ['o4', tooMany]]);
  });
});

describe('actionValues', () => {
  const parent = { command: imagine, params: { prompt: 'a cat', seed: 7, steps: 12 }, images: [] };
  const [reroll, varyAction, fixed] = linkActions(imagine, [
    { name: 'reroll', inherit: true, with: { seed: '$random' } },
    { name: 'vary', command: 'vary', per: 'output', with: { image: '$output', prompt: '$parent.prompt', strength: 0.35 } },
    { name: 'fixed', inherit: true, with: { steps: 5 } },
  ], commands).actions;

  it('inherits the parent values and draws a new seed in range', () => {
    const { values, outputOption } = actionValues(reroll!, imagine, parent, () => 123456n);
    expect(values).toEqual({ prompt: 'a cat', steps: 12, seed: String(123456n % 1001n) });
    expect(outputOption).toBeNull();
  });

  it('binds the output, the parent prompt and constants to another command', () => {
    expect(actionValues(varyAction!, vary, parent)).toEqual({ values: { prompt: 'a cat', strength: 0.35 }, outputOption: 'image', parentImages: {} });
  });

  it('lets a binding override an inherited value', () => {
    expect(actionValues(fixed!, imagine, parent).values).toEqual({ prompt: 'a cat', seed: 7, steps: 5 });
  });

  it('reuses the parent image inputs of options both commands share', () => {
    const again = linkActions(vary, [{ name: 'again', inherit: true }], commands).actions[0]!;
    const result = actionValues(again, vary, { command: vary, params: { prompt: 'p', strength: 0.5, seed: 1 }, images: ['image'] });
    expect(result.parentImages).toEqual({ image: 'image' });
    expect(result.values).toEqual({ prompt: 'p', strength: 0.5, seed: 1 });
  });
});
