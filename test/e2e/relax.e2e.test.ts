// The real bot process with a daily GPU-minute quota and relax mode: once a member's fast GPU time is used up, a
// server that does not allow relax refuses their jobs with when the quota resets, one that does runs them in relax
// (the card says so); `/settings mode relax` runs a member's jobs in relax without using their fast time.
import { describe, expect, it } from 'vitest';
import { currentRevision } from '../fakes/discord/index.js';
import { embedOf, ephemeralAnswerOf, finalCardOf, useE2E } from './harness.js';

// 0.02 min = 1.2 s of fast GPU time: one job held running on the fake ComfyUI for 2 s uses it up.
const e2e = useE2E({ configYaml: ['limits:', '  dailyGpuMinutes: 0.02', ''].join('\n') });

const RELAX_LINE = '🐢 Relax mode: runs when no fast job waits; not counted in your fast time';

function cardReaches(token: string, state: string | RegExp) {
  return finalCardOf(e2e(), token, state);
}

function descriptionOf(token: string): string {
  return embedOf(currentRevision(e2e().discord.originalFor(token)!))?.description ?? '';
}

/** The ephemeral text answer of a settings command. */
async function answer(name: string, options: Record<string, string | boolean>, who: { userId?: string; roles?: string[] }): Promise<string> {
  const { token } = await e2e().discord.slash(name, options, who);
  return e2e().discord.waitFor((d) => d.originalFor(token) && currentRevision(d.originalFor(token)!).content, { description: `the answer to /${name}` });
}

const allowRelax = (on: boolean) => answer('comfy config relax', { on }, { roles: ['Moderator'] });

async function infoOf(userId: string): Promise<string> {
  const { token } = await e2e().discord.slash('info', {}, { userId });
  return embedOf(await ephemeralAnswerOf(e2e().discord, token))?.description ?? '';
}

/**
 * One job held running until its card says 2 s or more (more than the day's 1.2 s of fast time), then let
 * finish; `whileRunning` checks the running card. Returns the job's interaction token.
 */
async function runForTwoSeconds(userId: string, prompt: string, whileRunning: (token: string) => void = () => {}): Promise<string> {
  const { discord, comfy } = e2e();
  comfy.hold();
  const job = await discord.slash('imagine', { prompt }, { userId });
  await cardReaches(job.token, 'Running');
  whileRunning(job.token);
  await discord.waitFor(
    (d) => {
      const card = d.originalFor(job.token);
      return card && /Elapsed ([2-9]|\d\d)s/.test(embedOf(currentRevision(card))?.description ?? '') ? card : undefined;
    },
    { timeoutMs: 15_000, description: 'the card to say it has run for 2 s or more' },
  );
  comfy.release();
  await cardReaches(job.token, 'Done');
  return job.token;
}

async function useUpFastTime(userId: string): Promise<void> {
  const token = await runForTwoSeconds(userId, 'uses the fast time');
  expect(descriptionOf(token)).not.toContain(RELAX_LINE);
}

describe('relax mode', () => {
  it('over the fast time: refused with the reset time where relax is not allowed, run in relax where it is', async () => {
    const member = e2e().discord.addMember({ id: '7400000000000000041' }).user.id;
    await useUpFastTime(member);

    const refused = await e2e().discord.slash('imagine', { prompt: 'no relax here' }, { userId: member });
    await cardReaches(refused.token, 'Not queued');
    expect(descriptionOf(refused.token)).toMatch(/❌ Daily GPU time used up \([2-9] s of 1 s\); it resets at 00:00 UTC/);
    expect(await infoOf(member)).toContain('**Mode** fast, and your fast time is used up: relax is not allowed here, so new jobs are refused until it resets');

    expect(await allowRelax(true)).toMatch(/^Relax mode is now allowed here/);
    try {
      const relaxed = await e2e().discord.slash('imagine', { prompt: 'relaxed' }, { userId: member });
      await cardReaches(relaxed.token, 'Done');
      expect(descriptionOf(relaxed.token)).toContain(RELAX_LINE);
      expect(await infoOf(member)).toContain('**Mode** relax: your fast time is used up · relax is allowed here');
    } finally {
      expect(await allowRelax(false)).toMatch(/^Relax mode is now off here/);
    }
  });

  it('/settings mode relax: the job runs in relax and uses none of the fast time', async () => {
    const member = e2e().discord.addMember({ id: '7400000000000000042' }).user.id;
    expect(await answer('settings mode', { mode: 'relax' }, { userId: member })).toBe(
      'Your jobs now run in relax where it is allowed: after every fast job, and not counted in your fast GPU time. Relax is not allowed here, so your jobs here still run fast.',
    );
    expect(await allowRelax(true)).toMatch(/^Relax mode is now allowed here/);
    try {
      // In fast mode this run alone would use up the day's fast time.
      const token = await runForTwoSeconds(member, 'saving fast time', (running) => expect(descriptionOf(running)).toContain(RELAX_LINE));
      expect(descriptionOf(token)).toMatch(/GPU time [2-9]s/);
      const info = await infoOf(member);
      expect(info).toMatch(/\*\*GPU time\*\* [2-9]s today/);
      expect(info).toContain('**Fast time** 1s of 1s left today');
      expect(info).toContain('**Mode** relax (your choice: `/settings mode fast` to switch) · relax is allowed here');

      // Back to fast: the fast time is all there, so the next job runs fast.
      expect(await answer('settings mode', { mode: 'fast' }, { userId: member })).toMatch(/^Your jobs now run fast/);
      const fast = await e2e().discord.slash('imagine', { prompt: 'fast again' }, { userId: member });
      await cardReaches(fast.token, 'Done');
      expect(descriptionOf(fast.token)).not.toContain(RELAX_LINE);
    } finally {
      expect(await allowRelax(false)).toMatch(/^Relax mode is now off here/);
    }
  });
});
