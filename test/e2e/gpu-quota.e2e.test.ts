// The real bot process with a daily GPU-minute quota: once a member's GPU time for the day is used up, their next
// job is refused on its card with when the quota resets; another member is not affected.
import { describe, expect, it } from 'vitest';
import { currentRevision } from '../fakes/discord/index.js';
import { embedOf, finalCardOf, useE2E } from './harness.js';

// 0.02 min = 1.2 s of GPU time: one job held running on the fake ComfyUI for 2 s uses it up.
const e2e = useE2E({ configYaml: ['limits:', '  dailyGpuMinutes: 0.02', ''].join('\n') });

/** Waits for the card to reach `state`; on a timeout the error shows the card's history and the bot's log. */
function cardReaches(token: string, state: string | RegExp): Promise<unknown> {
  return finalCardOf(e2e(), token, state);
}

describe('a daily GPU-minute quota', () => {
  it('refuses the next job once the day is used up, saying when it resets; other members still run', async () => {
    const { discord, comfy } = e2e();
    comfy.hold();
    const first = await discord.slash('imagine', { prompt: 'uses the quota' });
    await cardReaches(first.token, 'Running');
    // Held while running (after execution_start) until the card says it has run for 2 s or more (its clock ticks every 5 s): over the quota.
    await discord.waitFor(
      (d) => {
        const card = d.originalFor(first.token);
        return card && /Elapsed ([2-9]|\d\d)s/.test(embedOf(currentRevision(card))?.description ?? '') ? card : undefined;
      },
      { timeoutMs: 15_000, description: 'the card to say it has run for 2 s or more' },
    );
    comfy.release();
    await cardReaches(first.token, 'Done');
    expect(embedOf(currentRevision(discord.originalFor(first.token)!))?.description).toMatch(/GPU time \d+s/);

    const refused = await discord.slash('imagine', { prompt: 'over the quota' });
    await cardReaches(refused.token, 'Not queued');
    expect(embedOf(currentRevision(discord.originalFor(refused.token)!))?.description).toMatch(
      /❌ Daily GPU time used up \([2-9] s of 1 s\); it resets at 00:00 UTC/,
    );

    const other = discord.addMember({ id: '7300000000000000031' }).user.id;
    const fresh = await discord.slash('imagine', { prompt: 'someone else' }, { userId: other });
    await cardReaches(fresh.token, 'Done');
  });
});
