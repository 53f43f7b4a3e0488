// The real bot process on a Comfy API v2 backend (the fake v2 endpoint in front of the fake ComfyUI, with the
// ComfyUI as its classic URL): the same card with live previews, cancel through the interrupt fallback, and a
// crash between the submit and its 201 that ends in adoption, not a second job.
import { describe, expect, it } from 'vitest';
import { currentRevision } from '../fakes/discord/index.js';
import { botReady, buttonId, cardIn, describeHistory, embedOf, spawnBot, titleOf, useE2E } from './harness.js';

const e2e = useE2E({ v2: { profile: 'proxy' } });

function v2() {
  const fake = e2e().v2;
  if (!fake) throw new Error('this run has no v2 endpoint');
  return fake;
}

describe('a v2 backend', () => {
  it('moves the card from waiting to a live preview to the delivered image', async () => {
    // The proxy replays nothing on connect: hold the run until the bot's stream is open, as a real (slower)
    // ComfyUI would be; then hold again at step 3 to look at the running card.
    e2e().comfy.hold();
    const streamOpen = v2().next('stream-open');
    const { token } = await e2e().discord.slash('imagine', { prompt: 'a lighthouse over the v2 API', steps: 8 });
    await streamOpen;
    const onStep = (_id: string, _node: string, value: number) => {
      if (value < 3) return;
      e2e().comfy.events.off('step', onStep);
      e2e().comfy.hold();
    };
    e2e().comfy.events.on('step', onStep);
    e2e().comfy.release();
    const running = await e2e().discord.waitFor((d) => {
      const card = d.originalFor(token);
      return card?.history.find((r) => titleOf(r).endsWith('Running') && r.attachments.some((a) => a.filename.startsWith('preview.')));
    }, { timeoutMs: 15_000, description: 'a running card with a preview' }).catch((error: Error) => {
      const card = e2e().discord.originalFor(token);
      throw new Error(`${error.message}\n${card ? describeHistory(card) : '(no card)'}\n${e2e().bot.lines.slice(-15).join('\n')}`);
    });
    expect(embedOf(running)?.description).toMatch(/Steps {2}▰+▱* \d+\/8/);
    e2e().comfy.release();
    const done = currentRevision(await e2e().discord.waitFor((d) => cardIn(d, token, 'Done'), { timeoutMs: 20_000, description: 'the Done card' }));
    expect(done.attachments.filter((a) => !a.filename.startsWith('preview.'))).toHaveLength(1);
    expect(v2().requests.some((r) => r.method === 'POST' && r.path === '/api/v2/jobs' && r.idempotencyKey)).toBe(true);
    expect(e2e().comfy.requests.some((r) => r.path.endsWith('/prompt') && r.method === 'POST')).toBe(true);
  }, 60_000);

  it('cancels a running job: the v2 cancel does not stop it, the targeted interrupt does', async () => {
    e2e().comfy.hold();
    const streamOpen = v2().next('stream-open');
    const { token } = await e2e().discord.slash('imagine', { prompt: 'slow over v2' });
    await streamOpen;
    const card = await e2e().discord.waitFor((d) => cardIn(d, token, 'Running'), { timeoutMs: 15_000, description: 'a running card' });
    const interrupted = new Promise<void>((resolve) => {
      const onRequest = (_method: string, path: string) => {
        if (!path.includes('/interrupt')) return;
        e2e().comfy.events.off('request', onRequest);
        resolve();
      };
      e2e().comfy.events.on('request', onRequest);
    });
    await e2e().discord.button(card.id, buttonId(currentRevision(card), 'cancel'));
    await interrupted;
    await fetch(`${e2e().comfy.url}/queue`);
    e2e().comfy.release();
    const stopped = currentRevision(await e2e().discord.waitFor((d) => cardIn(d, token, 'Cancelled'), { timeoutMs: 20_000, description: 'the Cancelled card' }));
    expect(embedOf(stopped)?.description).toContain('Cancelled by');
    expect(v2().requests.some((r) => r.path.endsWith('/cancel'))).toBe(true);
    await expect(e2e().bot.waitForLine((l) => l.includes('sent the classic targeted interrupt instead'), 5_000, 'the fallback in the log')).resolves.toContain('"job"');
  }, 60_000);

  it('after a SIGKILL between the submit and its 201, the restarted bot adopts the job instead of submitting it again', async () => {
    const release = v2().faults.holdSubmitResponses();
    const created = v2().next('job-created');
    const before = v2().jobIds.length;
    const { token } = await e2e().discord.slash('imagine', { prompt: 'killed before the 201' });
    const [jobId] = await created;
    // The card is the interaction's answer (a quick /imagine is answered with it); killed once Discord has it.
    await e2e().discord.waitFor((d) => d.requests.some((r) => r.method === 'POST' && r.path.endsWith(`${token}/callback`) && r.status < 300), {
      timeoutMs: 15_000,
      description: 'the card sent as the answer',
    });
    await e2e().bot.kill('SIGKILL');
    release();
    e2e().bot = spawnBot(e2e(), { dataDir: e2e().dataDir, env: { COMFY_URL: `v2:${v2().url}|${e2e().comfy.url}` } });
    await botReady(e2e());
    // The card shows the result: on the original reply, or on a channel message when the reply was never
    // edited before the kill (the card's own recovery decides which).
    const done = await e2e().discord.waitFor((d) => {
      const original = d.originalFor(token);
      const channel = original ? d.messagesInChannel(original.channelId) : [];
      return [original, ...channel].find((m) => m && titleOf(currentRevision(m)).endsWith('Done') && JSON.stringify(currentRevision(m).embeds).includes('killed before the 201'));
    }, { timeoutMs: 20_000, description: 'the card to show the result' }).catch((error: Error) => {
      const card = e2e().discord.originalFor(token);
      throw new Error(`${error.message}\n${card ? describeHistory(card) : '(no card)'}\n${e2e().bot.lines.slice(-20).join('\n')}`);
    });
    expect(currentRevision(done).attachments.length).toBeGreaterThan(0);
    expect(v2().jobIds.length).toBe(before + 1);
    expect(v2().jobIds).toContain(jobId);
    await expect(e2e().bot.waitForLine((l) => l.includes('adopted by its Idempotency-Key'), 5_000, 'the adoption in the log')).resolves.toContain(jobId!);
  }, 90_000);
});
