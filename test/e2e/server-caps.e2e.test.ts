// Many servers, one bot (the real bot process, two servers on the fake Discord, one fake ComfyUI): one server's
// members cannot fill the whole queue. Its waiting jobs stop at the per-server cap with a refusal that says so,
// and another server's member is served before the crowded server's next job.
import { describe, expect, it } from 'vitest';
import { currentRevision } from '../fakes/discord/index.js';
import { JobTracker } from '../durability/e2e-jobs.js';
import { embedOf, finalCardOf, useE2E } from './harness.js';

const SERVER_A = '7100000000000000001';
const SERVER_B = '7200000000000000002';

const e2e = useE2E({
  discord: { guilds: [{ id: SERVER_A, name: 'Server A' }, { id: SERVER_B, name: 'Server B' }] },
  configYaml: ['limits:', '  perUserQueued: 3', '  perGuildQueued: 3', ''].join('\n'),
});

/** Waits for the card to reach `state`; on a timeout the error shows the card's history and the bot's log. */
function cardReaches(token: string, state: string | RegExp): Promise<unknown> {
  return finalCardOf(e2e(), token, state);
}

describe('two servers, one bot', () => {
  it("refuses server A's job over its cap, and serves server B's member before A's next job", async () => {
    const { discord, comfy } = e2e();
    const tracker = new JobTracker(comfy, discord);
    for (const id of ['7100000000000000011', '7100000000000000012', '7100000000000000013']) discord.addMember({ id, guildId: SERVER_A });
    const memberOfB = discord.addMember({ id: '7200000000000000021', guildId: SERVER_B }).user.id;

    // Server A's members: one job running (held in ComfyUI), then three waiting, the server's cap.
    comfy.hold();
    const first = await tracker.submit('a-first', discord.userId);
    await cardReaches(first.token, 'Running');
    // Each queued before the next is sent: equal shares go to the longest waiting, so the order asserted below is
    // the order they joined the queue, not the order the bot happened to finish handling their interactions.
    const waiting = [];
    for (const [label, userId] of [['a-second', discord.userId], ['a-member-11', '7100000000000000011'], ['a-member-12', '7100000000000000012']] as const) {
      const job = await tracker.submit(label, userId);
      await cardReaches(job.token, 'Queued');
      waiting.push(job);
    }

    const refused = await tracker.submit('a-member-13', '7100000000000000013');
    await cardReaches(refused.token, 'Not queued');
    expect(embedOf(currentRevision(discord.originalFor(refused.token)!))?.description).toMatch(
      /^❌ This server already has 3 jobs waiting \(the limit\); wait for one to finish/,
    );

    // Server B is under no one's cap: its member's job is taken, and goes next.
    const fromB = await tracker.submit('b-member', memberOfB, {}, { guildId: SERVER_B });
    await cardReaches(fromB.token, 'Queued');
    comfy.release();
    for (const job of [fromB, ...waiting]) await cardReaches(job.token, 'Done');
    const dispatchOrder = [...tracker.jobs].filter((j) => j.promptIds.length > 0).sort((a, b) => firstPrompt(a) - firstPrompt(b));
    expect(dispatchOrder.map((j) => j.label)).toEqual(['a-first', 'b-member', 'a-member-11', 'a-member-12', 'a-second']);
    expect(refused.promptIds).toEqual([]);

    function firstPrompt(job: (typeof tracker.jobs)[number]): number {
      return comfy.requests.findIndex((r) => r.method === 'POST' && /\/prompt$/.test(r.path) && (r.body as { prompt_id?: string }).prompt_id === job.promptIds[0]);
    }
  });
});
