// A private bot: COMFYCORD_ALLOWED_GUILDS makes the real bot leave every other server, those it is in at start-up
// and any it is added to later, and log it. The application here is owned by a team: its accepted admins and
// developers are operators, its read-only members are not.
import { describe, expect, it } from 'vitest';
import { ephemeralAnswerOf, useE2E } from './harness.js';

const ALLOWED = '8200000000000000001';
const OTHER = '8200000000000000002';
const TEAM_OWNER = '9400000000000000001';
const DEVELOPER = '9400000000000000002';
const READ_ONLY = '9400000000000000003';

const e2e = useE2E({
  discord: {
    guilds: [{ id: ALLOWED, name: 'Ours' }, { id: OTHER, name: 'Someone else' }],
    application: { team: { ownerId: TEAM_OWNER, members: [{ id: DEVELOPER, role: 'developer' }, { id: READ_ONLY, role: 'read_only' }] } },
  },
  env: { COMFYCORD_ALLOWED_GUILDS: ALLOWED },
});

const leftLine = (guildId: string) => (line: string) => line.includes('left a server that is not in COMFYCORD_ALLOWED_GUILDS') && line.includes(guildId);

describe('COMFYCORD_ALLOWED_GUILDS', () => {
  it('leaves a server it was already in at start-up, and says so in the log', async () => {
    await e2e().bot.waitForLine(leftLine(OTHER), 10_000, 'the log line about leaving');
    await e2e().discord.waitFor((d) => !d.guildIds.includes(OTHER), { description: 'the bot to leave' });
    expect(e2e().discord.guildIds).toEqual([ALLOWED]);
  });

  it('leaves a server it is added to later', async () => {
    const added = await e2e().discord.addGuild({ name: 'Invited by a stranger' });
    await e2e().bot.waitForLine(leftLine(added.id), 10_000, 'the log line about leaving');
    await e2e().discord.waitFor((d) => !d.guildIds.includes(added.id), { description: 'the bot to leave' });
    expect(e2e().discord.guildIds).toEqual([ALLOWED]);
  });
});

describe('a team-owned application', () => {
  async function pauseBackend(userId: string): Promise<string> {
    e2e().discord.addMember({ id: userId, roles: ['Member'], guildId: ALLOWED });
    const { token } = await e2e().discord.slash('comfy pause', { backend: 'comfy-1' }, { userId, guildId: ALLOWED });
    return (await ephemeralAnswerOf(e2e().discord, token)).content;
  }

  it("makes the team's owner and developers operators, not its read-only members", async () => {
    expect(await pauseBackend(READ_ONLY)).toMatch(/^Only this server's admins .* and the bot's operators can use \/comfy pause\.$/);
    expect(await pauseBackend(DEVELOPER)).toBe('comfy-1: paused (its running jobs finish).');
    e2e().discord.addMember({ id: TEAM_OWNER, roles: [], guildId: ALLOWED });
    const { token } = await e2e().discord.slash('comfy resume', { backend: 'comfy-1' }, { userId: TEAM_OWNER, guildId: ALLOWED });
    expect((await ephemeralAnswerOf(e2e().discord, token)).content).toBe('comfy-1: taking jobs again.');
  });
});
