// The real bot process against the fake Discord and the fake ComfyUI: one /imagine from queued to delivered,
// the buttons, the built-in commands, a job across the 15-minute token expiry, a rate-limit storm, and a
// workflow ComfyUI refuses.
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { currentRevision, type MessageRevision, type StoredMessage } from '../fakes/discord/index.js';
import { buttonId, cardIn, embedOf, ephemeralAnswerOf, finalCardOf, titleOf, useE2E } from './harness.js';

const e2e = useE2E();

/** The final card of an interaction; on a timeout the card's history so far is in the error. */
const finalCard = (token: string, state?: string | RegExp, timeoutMs?: number): Promise<StoredMessage> => finalCardOf(e2e(), token, state, timeoutMs);
const ephemeralAnswer = (token: string): Promise<MessageRevision> => ephemeralAnswerOf(e2e().discord, token);

function field(revision: MessageRevision, name: string): string | undefined {
  return embedOf(revision)?.fields?.find((f) => f.name === name)?.value.replace(/`/g, '');
}

/** Holds the fake ComfyUI once the sampler reports `step`, so the test can look at a running card. */
function holdAtStep(step: number): void {
  const onStep = (_id: string, _node: string, value: number) => {
    if (value < step) return;
    e2e().comfy.events.off('step', onStep);
    e2e().comfy.hold();
  };
  e2e().comfy.events.on('step', onStep);
}

describe('/imagine', () => {
  let done: StoredMessage;
  let doneToken: string;

  it('moves one card from waiting to a live preview to the delivered image, with no 429', async () => {
    holdAtStep(3);
    const { token } = await e2e().discord.slash('imagine', { prompt: 'a lighthouse at dusk', steps: 8 });
    doneToken = token;
    const running = await e2e().discord.waitFor((d) => {
      const card = d.originalFor(token);
      return card?.history.find((r) => titleOf(r).endsWith('Running') && r.attachments.some((a) => a.filename.startsWith('preview.')));
    }, { timeoutMs: 10_000, description: 'a running card with a preview' });
    const preview = running.attachments.find((a) => a.filename.startsWith('preview.'))!;
    expect(preview.contentType).toBe('image/webp');
    expect(embedOf(running)?.image?.url).toBe(`attachment://${preview.filename}`);
    expect(embedOf(running)?.description).toMatch(/Steps {2}▰+▱* \d+\/8/);
    expect(embedOf(running)?.description).toContain('Elapsed');
    expect(running.components.length).toBe(1);

    e2e().comfy.release();
    done = await finalCard(token, 'Done');
    const final = currentRevision(done);
    expect(embedOf(final)?.description).toContain('a lighthouse at dusk');
    expect(embedOf(final)?.description).toContain('✅ 1 image');
    // The GPU time the fake ComfyUI took, from its execution_start to its last message (held at step 3 for a while).
    expect(embedOf(final)?.description).toMatch(/✅ 1 image in \d+s · GPU time \d+s/);
    expect(final.attachments.map((a) => a.filename)).toEqual([expect.stringMatching(/^imagine_[0-9a-f]{8}_1\.png$/)]);
    expect(embedOf(final)?.image?.url).toBe(`attachment://${final.attachments[0]!.filename}`);
    expect(field(final, 'steps')).toBe('8');
    expect(field(final, 'seed')).toMatch(/^\d+$/);
    expect(final.attachments.some((a) => a.filename.startsWith('preview.'))).toBe(false);
    expect(buttonIdsOf(final)).toEqual(['reroll', 'edit', 'delete', 'upscale', 'vary', 'vary-subtle', 'vary-strong', 'pan-left', 'pan-right', 'pan-up', 'pan-down', 'zoom15', 'zoom2']);
    expect(e2e().discord.rateLimitHits).toEqual({});
  });

  it('answers a plain /imagine with the card itself: no defer, and no PATCH for its first state', async () => {
    const d = e2e().discord;
    const interaction = d.interactions.find((i) => i.token === doneToken)!;
    expect(interaction.response?.type).toBe(4);
    const first = done.history[0]!;
    expect(first.via).toBe('callback');
    expect(first.flags).toBe(0);
    expect(titleOf(first)).toMatch(/^\/imagine · /);
    expect(embedOf(first)?.description).toContain('a lighthouse at dusk');
    expect(first.components.length).toBe(1);
    // Every later state is one PATCH of the reply; the first state cost none (a deferred reply would have).
    const patches = d.requests.filter((r) => r.method === 'PATCH' && r.path.includes(doneToken));
    expect(patches.length).toBe(done.history.length - 1);
    expect(done.history.slice(1).every((r) => r.via === 'webhook')).toBe(true);
  });

  it('rerolls with the same options and a new seed', async () => {
    const { token } = await e2e().discord.button(done.id, buttonId(currentRevision(done), 'reroll'));
    const again = currentRevision(await finalCard(token, 'Done'));
    expect(field(again, 'steps')).toBe('8');
    expect(embedOf(again)?.description).toContain('a lighthouse at dusk');
    expect(field(again, 'seed')).not.toBe(field(currentRevision(done), 'seed'));
  });

  it('edits the prompt in a modal and runs again with the same seed', async () => {
    const edit = await e2e().discord.button(done.id, buttonId(currentRevision(done), 'edit'));
    const modalId = await e2e().discord.waitFor((d) => d.interactions.find((i) => i.token === edit.token)?.response?.data?.['custom_id'] as string | undefined);
    const { token } = await e2e().discord.modalSubmit(modalId, { prompt: 'a lighthouse in a storm' });
    const edited = currentRevision(await finalCard(token, 'Done'));
    expect(embedOf(edited)?.description).toContain('a lighthouse in a storm');
    expect(field(edited, 'seed')).toBe(field(currentRevision(done), 'seed'));
  });

  it('upscales an output with the upscale command from its button', async () => {
    const uploaded = comfyRequest('/upload/image');
    const { token } = await e2e().discord.button(done.id, buttonId(currentRevision(done), 'upscale'));
    // The card's image goes to ComfyUI as the upscale command's input.
    await uploaded;
    const upscaled = currentRevision(await finalCard(token, 'Done'));
    expect(titleOf(upscaled)).toBe('/upscale · Done');
    expect(upscaled.attachments.map((a) => a.filename)).toEqual([expect.stringMatching(/^upscale_[0-9a-f]{8}_1\.png$/)]);
  });

  it('deletes a card for its owner only', async () => {
    const stranger = e2e().discord.addMember({ id: '9100000000000000003', username: 'passer-by', roles: [] });
    const refused = await e2e().discord.button(done.id, buttonId(currentRevision(done), 'delete'), { userId: stranger.user.id });
    expect((await ephemeralAnswer(refused.token)).content).toBe("This is not your job: only its owner and this server's moderators can do that.");
    expect(e2e().discord.message(done.id)?.deleted).toBe(false);
    // Pressed twice before the card is gone (a double click): one press deletes it, the other is told so.
    const remove = buttonId(currentRevision(done), 'delete');
    const presses = await Promise.all([e2e().discord.button(done.id, remove), e2e().discord.button(done.id, remove)]);
    await e2e().discord.waitFor((d) => d.message(done.id)?.deleted, { description: 'the card to be deleted' });
    const answer = await Promise.any(presses.map((press) => ephemeralAnswer(press.token)));
    expect(answer.content).toBe('This card is already deleted.');
  });

  it('shows a workflow ComfyUI refuses (400) as an option error on the card', async () => {
    const { token } = await e2e().discord.slash('imagine', { prompt: 'x', sampler: 'no_such_sampler' });
    const failed = currentRevision(await finalCard(token, 'Failed'));
    // The renderer escapes Markdown, hence the backslashes before the underscores.
    expect(embedOf(failed)?.description).toContain("❌ ComfyUI refused the workflow: KSampler.sampler\\_name: 'no\\_such\\_sampler' is not one of the installed choices");
    expect(failed.components).toEqual([]);
  });

  it('says so when no backend has the model, and queues nothing', async () => {
    const { token } = await e2e().discord.slash('imagine', { prompt: 'x', model: 'missing.safetensors' });
    const refused = currentRevision(await finalCard(token, 'Not queued'));
    expect(embedOf(refused)?.description).toBe('❌ no backend can run this: model missing.safetensors is not installed on any backend');
  });

  it('refuses an option outside its range before anything is queued', async () => {
    const { token } = await e2e().discord.slash('imagine', { prompt: 'x', cfg: 7.3 });
    const refused = currentRevision(await finalCard(token, 'Not queued'));
    expect(embedOf(refused)?.description).toContain('cfg must be in steps of 0.5');
  });
});

function buttonIdsOf(revision: MessageRevision): string[] {
  return revision.components.flatMap((row) => ((row as { components: { custom_id: string }[] }).components).map((c) => c.custom_id.split(':')[2]!));
}

describe('Cancel', () => {
  it('tells a stranger it is not their job and cancels a queued and a running job for the owner', async () => {
    e2e().comfy.hold();
    const running = await e2e().discord.slash('imagine', { prompt: 'slow' });
    const runningCard = await e2e().discord.waitFor((d) => cardIn(d, running.token, 'Running'), { description: 'a running card' });
    const queued = await e2e().discord.slash('imagine', { prompt: 'waiting' });
    const queuedCard = await e2e().discord.waitFor((d) => cardIn(d, queued.token, 'Queued'), { description: 'a queued card' });
    const cancelQueued = buttonId(currentRevision(queuedCard), 'cancel');

    const stranger = e2e().discord.addMember({ id: '9100000000000000001', username: 'stranger', roles: [] });
    const press = await e2e().discord.button(queuedCard.id, cancelQueued, { userId: stranger.user.id });
    expect((await ephemeralAnswer(press.token)).content).toBe("This is not your job: only its owner and this server's moderators can do that.");

    await e2e().discord.button(queuedCard.id, cancelQueued);
    const cancelled = currentRevision(await finalCard(queued.token, 'Cancelled'));
    expect(embedOf(cancelled)?.description).toContain(`Cancelled by <@${e2e().discord.userId}>`);
    expect(cancelled.components).toEqual([]);

    const interrupted = comfyRequest('/interrupt');
    await e2e().discord.button(runningCard.id, buttonId(currentRevision(runningCard), 'cancel'));
    await interrupted;
    // The run is frozen before its next node and sees the interrupt once it moves; one more round trip to the
    // server makes sure the interrupt request has been handled before the run is let go.
    await fetch(`${e2e().comfy.url}/queue`);
    e2e().comfy.release();
    const stopped = currentRevision(await finalCard(running.token, 'Cancelled'));
    expect(embedOf(stopped)?.description).toContain(`Cancelled by <@${e2e().discord.userId}>`);
  });
});

/** Resolves when the fake ComfyUI receives a request whose path contains `path`. */
function comfyRequest(path: string): Promise<void> {
  return new Promise((resolve) => {
    const onRequest = (_method: string, requested: string) => {
      if (!requested.includes(path)) return;
      e2e().comfy.events.off('request', onRequest);
      resolve();
    };
    e2e().comfy.events.on('request', onRequest);
  });
}

describe('options', () => {
  it('autocompletes a live list, filtered by what was typed', async () => {
    const choices = await e2e().discord.autocomplete('imagine', { prompt: 'x', model: 'SDXL' }, 'model');
    expect(choices).toEqual([{ name: 'sdxl.safetensors', value: 'sdxl.safetensors' }]);
    const samplers = (await e2e().discord.autocomplete('imagine', { prompt: 'x', sampler: 'dpmpp_2m' }, 'sampler')) as { name: string }[];
    expect(samplers.length).toBeGreaterThan(0);
    expect(samplers.every((c) => c.name.startsWith('dpmpp_2m'))).toBe(true);
  });

  it('takes an image attachment, checks it and sends it re-encoded to ComfyUI', async () => {
    const png = await sharp({ create: { width: 64, height: 48, channels: 3, background: '#3366cc' } }).jpeg().toBuffer();
    const uploaded = comfyRequest('/upload/image');
    const { token } = await e2e().discord.slash('reimagine', { prompt: 'in blue' }, { attachments: [{ name: 'photo.jpg', bytes: png, contentType: 'image/jpeg' }] });
    await uploaded;
    const card = await finalCard(token, 'Done');
    expect(titleOf(currentRevision(card))).toBe('/reimagine · Done');
    // Downloading the attachment comes before the admission: the interaction is deferred first.
    expect(e2e().discord.interactions.find((i) => i.token === token)?.response?.type).toBe(5);
    expect(card.history[0]!.embeds).toEqual([]);
  });

  it('refuses an attachment that is not an image', async () => {
    const { token } = await e2e().discord.slash('reimagine', { prompt: 'x' }, { attachments: [{ name: 'notes.txt', bytes: Buffer.from('hello'), contentType: 'text/plain' }] });
    const refused = currentRevision(await finalCard(token, 'Not queued'));
    expect(embedOf(refused)?.description).toBe('❌ image: that file is not an image');
  });
});

describe('built-in commands', () => {
  it('/help lists the command files', async () => {
    const { token } = await e2e().discord.slash('help');
    const answer = await ephemeralAnswer(token);
    const names = (embedOf(answer)?.fields ?? []).map((f) => f.name);
    expect(names).toEqual(expect.arrayContaining(['/imagine', '/upscale', '/reimagine']));
  });

  it('/queue shows the caller’s jobs as they wait and run', async () => {
    e2e().comfy.hold();
    const first = await e2e().discord.slash('imagine', { prompt: 'one' });
    await e2e().discord.waitFor((d) => cardIn(d, first.token, /Running/));
    const second = await e2e().discord.slash('imagine', { prompt: 'two' });
    await e2e().discord.waitFor((d) => cardIn(d, second.token, /Queued/));
    const queued = currentRevision(e2e().discord.originalFor(second.token)!);
    expect(embedOf(queued)?.description).toContain('⏳ Queued: next in line');

    const { token } = await e2e().discord.slash('queue');
    const answer = await ephemeralAnswer(token);
    expect(embedOf(answer)?.description).toMatch(/▶️ `\/imagine` running for/);
    expect(embedOf(answer)?.description).toMatch(/⏳ `\/imagine` #1 in line/);
    e2e().comfy.release();
    await finalCard(first.token, 'Done');
    await finalCard(second.token, 'Done');
  });

  it("/info shows the member's own GPU time, fast time left, jobs and average wait, only to them", async () => {
    e2e().discord.addMember({ id: '777000000000000001', username: 'metered', roles: [] });
    e2e().discord.addMember({ id: '777000000000000002', username: 'idle', roles: [] });
    const job = await e2e().discord.slash('imagine', { prompt: 'metered' }, { userId: '777000000000000001' });
    await finalCard(job.token, 'Done');
    const { token } = await e2e().discord.slash('info', {}, { userId: '777000000000000001' });
    const answer = await ephemeralAnswer(token);
    expect(embedOf(answer)?.title).toBe('Your usage');
    const text = embedOf(answer)?.description ?? '';
    expect(text).toMatch(/\*\*GPU time\*\* \d+s today · \d+s this month \(UTC\)/);
    expect(text).toContain('**Fast time** no daily limit · no monthly limit');
    expect(text).toContain('**Jobs** 0 waiting · 0 running');
    expect(text).toMatch(/\*\*Average wait\*\* \d+s \(your last jobs\)/);
    // Someone else has used nothing.
    const other = await e2e().discord.slash('info', {}, { userId: '777000000000000002' });
    expect(embedOf(await ephemeralAnswer(other.token))?.description).toContain('**GPU time** 0s today · 0s this month');
  });

  it("/comfy usage lists this server's top users by GPU time to its admins; every server only for operators", async () => {
    e2e().discord.addMember({ id: '777000000000000003', username: 'heavy', roles: [] });
    const job = await e2e().discord.slash('imagine', { prompt: 'counted' }, { userId: '777000000000000003' });
    await finalCard(job.token, 'Done');
    const member = await e2e().discord.slash('comfy usage', {}, { roles: ['Member'] });
    expect((await ephemeralAnswer(member.token)).content).toBe("Only this server's admins (Manage Server or a moderator role) and the bot's operators can use /comfy usage.");
    const admin = await e2e().discord.slash('comfy usage', {}, { roles: ['Moderator'] });
    const usage = embedOf(await ephemeralAnswer(admin.token));
    expect(usage?.title).toBe('GPU time this month (UTC), this server');
    expect(usage?.description).toMatch(/<@777000000000000003> \d+s \(1 job\)/);
    const everywhere = await e2e().discord.slash('comfy usage', { everywhere: true }, { roles: ['Moderator'] });
    expect((await ephemeralAnswer(everywhere.token)).content).toBe("Only the bot's operators can see every server's usage; /comfy usage without options shows this server's.");
  });

  it('/comfy status is refused without Manage Server and shows the backend to an admin', async () => {
    // Discord only hides /comfy from members without Manage Server (and admins can change that); the bot checks.
    const member = await e2e().discord.slash('comfy status', {}, { roles: ['Member'] });
    expect((await ephemeralAnswer(member.token)).content).toBe("Only this server's admins (Manage Server or a moderator role) and the bot's operators can use /comfy status.");

    const { token } = await e2e().discord.slash('comfy status', {}, { roles: ['Moderator'] });
    const status = embedOf(await ephemeralAnswer(token));
    expect(status?.description).toMatch(/^1 of 1 up · 0 jobs waiting · accepting jobs/);
    expect(status?.fields?.[0]?.name).toBe('comfy-1');
    expect(status?.fields?.[0]?.value).toMatch(/🟢 up · 0 running, 0 waiting/);
  });
});

describe('the 15-minute interaction token', () => {
  it('continues a 20-minute job on a channel message once the token has expired', async () => {
    e2e().comfy.hold();
    const { token } = await e2e().discord.slash('imagine', { prompt: 'a very long job' });
    await e2e().discord.waitFor((d) => cardIn(d, token, /Running/));
    e2e().discord.advance(20 * 60_000);
    e2e().comfy.release();
    const moved = await e2e().discord.waitFor((d) =>
      d.messagesInChannel(d.channelId).find((m) => m.kind === 'channel' && embedOf(currentRevision(m))?.footer?.text === embedOf(currentRevision(d.originalFor(token)!))?.footer?.text && titleOf(currentRevision(m)).endsWith('Done')),
    { timeoutMs: 15_000, description: 'the final card on a channel message' });
    const final = currentRevision(moved);
    expect(final.via).toBe('channel');
    expect(final.attachments.map((a) => a.contentType)).toEqual(['image/png']);
    expect(embedOf(final)?.description).toContain('a very long job');
  });
});

describe('a deleted card', () => {
  it('does not lose the job: the card continues on a new channel message', async () => {
    e2e().comfy.hold();
    const { token } = await e2e().discord.slash('imagine', { prompt: 'someone deletes this' });
    const card = await e2e().discord.waitFor((d) => cardIn(d, token, /Running/));
    const footer = embedOf(currentRevision(card))?.footer?.text;
    e2e().discord.faults.deleteMessage(card.id);
    e2e().comfy.release();
    const moved = await e2e().discord.waitFor(
      (d) => d.messagesInChannel(d.channelId).find((m) => !m.deleted && m.kind === 'channel' && embedOf(currentRevision(m))?.footer?.text === footer && titleOf(currentRevision(m)).endsWith('Done')),
      { timeoutMs: 15_000, description: 'the final card on a new message' },
    );
    expect(currentRevision(moved).attachments).toHaveLength(1);
  });
});

describe('a rate-limit storm', () => {
  it('loses no final state when Discord answers 429 to card edits', async () => {
    e2e().comfy.hold();
    e2e().discord.faults.failNext({ route: /^\/webhooks\//, method: 'PATCH', status: 429, times: 8, retryAfter: 0.2 });
    const tokens = [];
    for (const prompt of ['storm one', 'storm two', 'storm three']) tokens.push((await e2e().discord.slash('imagine', { prompt })).token);
    e2e().comfy.release();
    for (const token of tokens) {
      const final = currentRevision(await finalCard(token, 'Done', 30_000));
      expect(final.attachments).toHaveLength(1);
    }
    expect(Object.values(e2e().discord.rateLimitHits).reduce((a, b) => a + b, 0)).toBeGreaterThanOrEqual(8);
  }, 60_000);
});

describe('server policy', () => {
  it('refuses a prompt with a word an admin blocked, and applies a member’s saved defaults', async () => {
    const block = await e2e().discord.slash('comfy config block', { word: 'forbidden' }, { roles: ['Moderator'] });
    expect((await ephemeralAnswer(block.token)).content).toContain('forbidden');
    const blocked = await e2e().discord.slash('imagine', { prompt: 'a Forbidden thing' });
    const refused = currentRevision(await finalCard(blocked.token, 'Not queued'));
    expect(embedOf(refused)?.description).toBe('❌ Your prompt contains something this server does not allow. Please change it and try again.');

    const saved = await e2e().discord.slash('settings set', { command: 'imagine', option: 'steps', value: '12' });
    expect((await ephemeralAnswer(saved.token)).content).toContain('steps');
    const { token } = await e2e().discord.slash('imagine', { prompt: 'a harmless thing' });
    expect(field(currentRevision(await finalCard(token, 'Done')), 'steps')).toBe('12');
  });
});
