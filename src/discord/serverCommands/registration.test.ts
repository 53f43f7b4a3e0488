import { describe, expect, it } from 'vitest';
import { silentLogger } from '../../config/logger.js';
import { GuildCommandSet } from '../../templates/guild-commands.js';
import type { CommandDefinition } from '../../templates/definition.js';
import type { BotContext } from '../wiring/context.js';
import { guildPayloads, serverPayloads } from './registration.js';

const TEMPLATE = JSON.stringify({ '1': { class_type: 'SaveImage', inputs: { images: ['2', 0] } }, '2': { class_type: 'EmptyImage', inputs: { width: 8 } } });
const file = (name: string) => `name: ${name}\ndescription: ${name} here\ntemplate: ${name}.json\noptions:\n  - { name: width, type: integer, min: 1, max: 64, target: 2.width }\n`;

function context(devGuild?: string): BotContext {
  const { set } = GuildCommandSet.from(['fox', 'imagine'].map((name) => ({ guildId: '5', name, commandFile: file(name), template: TEMPLATE })));
  const global = new Map([['imagine', { name: 'imagine' } as CommandDefinition]]);
  return {
    registry: { commands: global },
    guildCommands: set,
    logger: silentLogger,
    config: { discord: { guildId: devGuild } },
    backends: [],
  } as unknown as BotContext;
}

describe("a server's command registration", () => {
  it('holds back a server command that a global one of the same name hides, and only for that server', () => {
    const payloads = serverPayloads(context(), '5');
    expect(payloads.map((p) => p.name)).toEqual(['fox']);
    expect(payloads[0]).toMatchObject({ description: 'fox here', contexts: [0] });
    expect(serverPayloads(context(), '6')).toEqual([]);
  });

  it("shares the one list with the bot's own commands in DISCORD_GUILD_ID", () => {
    const ctx = { ...context('5'), registry: { commands: new Map() } } as unknown as BotContext;
    const names = guildPayloads(ctx, '5').map((p) => p.name);
    expect(names).toEqual(expect.arrayContaining(['comfy', 'queue', 'settings', 'fox', 'imagine']));
    expect(guildPayloads(context('9'), '5').map((p) => p.name)).toEqual(['fox']);
  });
});
