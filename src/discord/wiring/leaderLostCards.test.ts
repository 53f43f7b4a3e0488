import { describe, expect, it } from 'vitest';
import { silentLogger } from '../../config/logger.js';
import type { JobRow } from '../../jobs/store-types.js';
import { GuildCommandSet } from '../../templates/guild-commands.js';
import { ChannelPacer } from '../channelPacer.js';
import type { BotContext } from './context.js';
import { showLeaderLost } from './leaderLostCards.js';

const NOW = Date.now();

function row(id: string, extra: Partial<JobRow>): JobRow {
  return {
    id, state: 'queued', promptId: `p-${id}`, ownerId: 'u1', guildId: 'g1', channelId: 'c1', messageId: null, interaction: null,
    command: 'imagine', params: { prompt: 'a lighthouse' }, workflow: {}, images: [], backend: null, attempts: 0, error: null,
    outputs: null, delivery: 'none', deliveries: [], uploadLimit: null, parentId: null, parentOutput: null, parentAction: null,
    createdAt: NOW, updatedAt: NOW, startedAt: null, finishedAt: null, gpuMs: null, mode: 'fast', cancelRequest: null, waitSince: null, ...extra,
  };
}

/** A bot context with the rows as the store's unfinished jobs and Discord's REST answering (or failing) each edit. */
function setup(rows: JobRow[], fail: (route: string) => Error | null = () => null) {
  const edits: { route: string; auth: boolean; description: string; title: string }[] = [];
  const ctx = {
    logger: silentLogger,
    store: { unfinished: () => rows, get: (id: string) => rows.find((r) => r.id === id) ?? null },
    registry: { commands: new Map() },
    guildCommands: GuildCommandSet.from([]).set,
    pacer: () => new ChannelPacer(),
    client: {
      application: { id: 'app' },
      rest: {
        patch: async (route: string, options: { body: { embeds: { title: string; description: string }[] }; auth: boolean; signal: AbortSignal }) => {
          expect(options.signal.aborted).toBe(false);
          const error = fail(route);
          if (error) throw error;
          edits.push({ route, auth: options.auth, title: options.body.embeds[0]!.title, description: options.body.embeds[0]!.description });
          return { id: 'm' };
        },
      },
    },
  } as unknown as BotContext;
  return { ctx, edits };
}

describe('showLeaderLost', () => {
  it("edits each unfinished card once where the next leader will continue it, and skips a card never posted", async () => {
    const { ctx, edits } = setup([
      // Admitted on a standby, its reply never edited: through the interaction token, without the bot's token.
      row('reply', { interaction: { token: 'tok', expiresAt: NOW + 600_000 } }),
      // A card the leader edited: its message, with the bot's token.
      row('message', { state: 'running', messageId: 'm1', startedAt: NOW - 42_000, backend: 'gpu1' }),
      // The token expired and no message was recorded: nothing to edit (posting would make a second card).
      row('nowhere', { interaction: { token: 'old', expiresAt: NOW - 1 } }),
    ]);
    await expect(showLeaderLost(ctx, Date.now() + 5_000)).resolves.toBe(2);
    expect(edits.map(({ route, auth, title }) => ({ route, auth, title }))).toEqual([
      { route: '/webhooks/app/tok/messages/%40original', auth: false, title: '/imagine · Queued' },
      { route: '/channels/c1/messages/m1', auth: true, title: '/imagine · Running' },
    ]);
    for (const edit of edits) expect(edit.description).toContain('⚠️ The bot lost its leader process: the job will resume in a few seconds');
    // A queued card shows no place (the dead leader knew the queue); a running one its elapsed time.
    expect(edits[0]!.description).not.toMatch(/Position|position/);
    expect(edits[1]!.description).toMatch(/Elapsed 4[2-9]s/);
  });

  it('sends nothing once the deadline has passed, and a failed edit costs only its own card', async () => {
    const late = setup([row('a', { messageId: 'm1' })]);
    await expect(showLeaderLost(late.ctx, Date.now() - 1)).resolves.toBe(0);
    expect(late.edits).toEqual([]);

    const failing = setup([row('a', { messageId: 'm1' }), row('b', { messageId: 'm2' })], (route) => (route.endsWith('/m1') ? new Error('Unknown Message') : null));
    await expect(showLeaderLost(failing.ctx, Date.now() + 5_000)).resolves.toBe(1);
    expect(failing.edits.map((e) => e.route)).toEqual(['/channels/c1/messages/m2']);
  });
});
