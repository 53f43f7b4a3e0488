// The bot process ends and starts again on the same data: buttons on old cards keep working, and a job that was
// running when the process was killed finishes on its original card.
import { expect, it } from 'vitest';
import { currentRevision } from '../fakes/discord/index.js';
import { botReady, buttonId, cardIn, describeHistory, embedOf, spawnBot, stopBot, titleOf, useE2E } from './harness.js';

const e2e = useE2E();

async function restart(signal: NodeJS.Signals): Promise<void> {
  const run = e2e();
  if (signal === 'SIGKILL') await run.bot.kill('SIGKILL');
  else await stopBot(run.bot);
  run.bot = spawnBot(run, { dataDir: run.dataDir });
  await botReady(run);
}

it('answers the Reroll and Upscale buttons of a card made before a restart', async () => {
  const { token } = await e2e().discord.slash('imagine', { prompt: 'before the restart' });
  const card = await e2e().discord.waitFor((d) => cardIn(d, token, 'Done'), { timeoutMs: 15_000 });
  await restart('SIGTERM');
  const again = await e2e().discord.button(card.id, buttonId(currentRevision(card), 'reroll'));
  const rerolled = currentRevision(await e2e().discord.waitFor((d) => cardIn(d, again.token, 'Done'), { timeoutMs: 15_000 }));
  expect(embedOf(rerolled)?.description).toContain('before the restart');
  // A per-output action after the restart: the parent's output is fetched again (the card's custom_id carries
  // only the job id, the action and the output number).
  const upscale = await e2e().discord.button(card.id, buttonId(currentRevision(card), 'upscale'));
  const upscaled = currentRevision(await e2e().discord.waitFor((d) => cardIn(d, upscale.token, 'Done'), { timeoutMs: 15_000 }));
  expect(titleOf(upscaled)).toBe('/upscale · Done');
  expect(embedOf(upscaled)?.description).toContain(`](https://discord.com/channels/${card.guildId}/${card.channelId}/${card.id})`);
}, 60_000);

it('finishes a job that was running when the process was killed, on its original card', async () => {
  e2e().comfy.hold();
  const { token } = await e2e().discord.slash('imagine', { prompt: 'survives a crash' });
  const card = await e2e().discord.waitFor((d) => cardIn(d, token, 'Running'), { timeoutMs: 10_000 });
  // The card's message id reaches the store from Discord's answer to its first edit. The editor keeps one edit in
  // flight, so a second edit of the reply means the bot has handled that answer. With ComfyUI held, that second
  // edit is the card's elapsed-time tick (every 5 s), so the wait allows more than one tick.
  await e2e().discord.waitFor(
    (d) => d.requests.filter((r) => r.method === 'PATCH' && r.status === 200 && r.path.endsWith('/messages/@original') && r.path.includes(token)).length >= 2,
    { timeoutMs: 15_000, description: "the card's second edit" },
  );
  await restart('SIGKILL');
  await e2e().bot.waitForLine((line) => line.includes('jobs recovered from the store'), 10_000, 'recovery');
  e2e().comfy.release();
  const done = await e2e().discord.waitFor((d) => {
    const message = d.message(card.id);
    return message && titleOf(currentRevision(message)).endsWith('Done') ? message : undefined;
  }, { timeoutMs: 20_000, description: 'the original card to show the result' }).catch((error: Error) => {
    console.log(describeHistory(e2e().discord.message(card.id)!));
    console.log(e2e().bot.lines.filter((l) => !l.includes('audit')).slice(-30).join('\n'));
    throw error;
  });
  expect(currentRevision(done).via).toBe('channel');
  expect(currentRevision(done).attachments).toHaveLength(1);
}, 60_000);
