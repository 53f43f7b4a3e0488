import { ApplicationCommandOptionType } from 'discord.js';
import { describe, expect, it } from 'vitest';
import { ADMIN_SUBCOMMANDS } from '../commandPayloads.js';
import { comfyConfigGroup, settingsCommandPayload } from './payloads.js';

const NAME = /^[-_\p{Ll}\p{N}]{1,32}$/u;

function walk(options: readonly { name: string; description: string; options?: readonly unknown[] }[], visit: (o: { name: string; description: string }) => void): void {
  for (const option of options) {
    visit(option);
    if (option.options) walk(option.options as typeof options, visit);
  }
}

describe('settingsCommandPayload', () => {
  it('offers show, set, clear and mode, with required options before optional ones', () => {
    const payload = settingsCommandPayload();
    expect(payload.options?.map((o) => o.name)).toEqual(['show', 'set', 'clear', 'mode']);
    for (const sub of payload.options ?? []) {
      const required = ('options' in sub ? (sub.options ?? []) : []).map((o) => ('required' in o ? o.required === true : false));
      expect(required).toEqual([...required].sort((a, b) => Number(b) - Number(a)));
    }
    expect(payload.default_member_permissions).toBeUndefined();
  });
});

describe('comfyConfigGroup', () => {
  it('is a subcommand group within Discord\'s limits', () => {
    const group = comfyConfigGroup();
    expect(group.type).toBe(ApplicationCommandOptionType.SubcommandGroup);
    expect(group.options?.length).toBeLessThanOrEqual(25);
    walk([group], (option) => {
      expect(option.name, option.name).toMatch(NAME);
      expect(option.description.length, option.name).toBeGreaterThan(0);
      expect(option.description.length, option.name).toBeLessThanOrEqual(100);
    });
  });

  it('does not clash with the /comfy subcommands it is added beside', () => {
    expect((ADMIN_SUBCOMMANDS as readonly string[]).includes(comfyConfigGroup().name)).toBe(false);
  });
});
