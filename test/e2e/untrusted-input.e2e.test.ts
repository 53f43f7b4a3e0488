// Untrusted input pays for cheap checks first: the real bot process against the fakes, counting the fake CDN's
// downloads. A submission refused for its channel or role, its limits, a blocked word, an option or a model no
// backend has downloads nothing; a refused attempt starts the member's interval; an image past the pixel limit
// is called too large; what is kept for a queued job is the member's own compact file, metadata stripped.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { currentRevision, MessageFlags, type FakeDiscord, type MessageRevision } from '../fakes/discord/index.js';
import { openJobStore } from '../../src/jobs/store.js';
import { pngHeaderOnly } from '../media/images.js';
import { cardIn, describeHistory, embedOf, useE2E } from './harness.js';

const INTERVAL_SECONDS = 600;
const e2e = useE2E({ configYaml: `limits:\n  perUserRunning: 1\n  perUserQueued: 3\n  minIntervalSeconds: ${INTERVAL_SECONDS}\n` });

const DOWNLOAD_ROUTE = 'GET /attachments/:id/:name';

function downloads(discord: FakeDiscord): number {
  return discord.requests.filter((r) => r.route === DOWNLOAD_ROUTE).length;
}

let members = 0;
/** A fresh member per test: the interval is per member and lasts the whole file. */
function member(): string {
  members += 1;
  const id = `93000000000000000${String(members).padStart(2, '0')}`;
  e2e().discord.addMember({ id, username: `member-${members}`, roles: [] });
  return id;
}

async function finalRevision(token: string, state: string): Promise<MessageRevision> {
  try {
    const card = await e2e().discord.waitFor((d) => cardIn(d, token, state), { timeoutMs: 15_000, description: `the card to reach ${state}` });
    return currentRevision(card);
  } catch (error) {
    const card = e2e().discord.originalFor(token);
    throw new Error(`${(error as Error).message}\ncard so far:\n${card ? describeHistory(card) : '(none)'}\nbot log tail:\n${e2e().bot.lines.slice(-8).join('\n')}`);
  }
}

async function ephemeralContent(token: string): Promise<string> {
  const message = await e2e().discord.waitFor((d) => {
    const interaction = d.interactions.find((i) => i.token === token);
    const id = interaction?.originalMessageId;
    const found = id ? d.message(id) : undefined;
    return found && (currentRevision(found).flags & MessageFlags.Ephemeral) !== 0 && currentRevision(found).content !== '' ? found : undefined;
  }, { description: 'an ephemeral answer' });
  return currentRevision(message).content;
}

async function photo(): Promise<Buffer> {
  return sharp({ create: { width: 64, height: 48, channels: 3, background: '#3366cc' } })
    .jpeg()
    .withExif({ IFD0: { Copyright: 'secret-location-42' } })
    .toBuffer();
}

/** /reimagine with a photo attached; resolves with the refusal (or card) text once the card says `state`. */
async function reimagine(options: Record<string, string | number>, userId: string, state = 'Not queued'): Promise<{ text: string; downloaded: number }> {
  const { discord } = e2e();
  const before = downloads(discord);
  const { token } = await discord.slash('reimagine', { prompt: 'in blue', ...options }, {
    userId,
    attachments: [{ name: 'photo.jpg', bytes: await photo(), contentType: 'image/jpeg' }],
  });
  const revision = await finalRevision(token, state);
  return { text: embedOf(revision)?.description ?? '', downloaded: downloads(discord) - before };
}

describe('a refused submission downloads nothing', () => {
  it('refused for a blocked word, an option, a model: no download, and the refusal starts the interval', async () => {
    const block = await e2e().discord.slash('comfy config block', { word: 'forbidden' }, { roles: ['Moderator'] });
    expect(await ephemeralContent(block.token)).toContain('forbidden');

    const blocked = member();
    expect(await reimagine({ prompt: 'a forbidden thing' }, blocked)).toEqual({
      text: '❌ Your prompt contains something this server does not allow. Please change it and try again.',
      downloaded: 0,
    });
    // The retry is turned away by the interval before the blocked lists run again; still nothing downloaded.
    const retry = await reimagine({ prompt: 'a harmless thing' }, blocked);
    expect(retry.downloaded).toBe(0);
    expect(retry.text).toMatch(new RegExp(`^❌ Please wait \\d+ s between jobs \\(the limit is ${INTERVAL_SECONDS} s\\)`));

    expect(await reimagine({ strength: 0.07 }, member())).toMatchObject({ text: expect.stringContaining('strength'), downloaded: 0 });
    expect(await reimagine({ model: 'missing.safetensors' }, member())).toEqual({
      text: '❌ no backend can run this: model missing.safetensors is not installed on any backend',
      downloaded: 0,
    });
  });

  it('refused for its role or its limits: no download', async () => {
    const moderatorRole = e2e().discord.roleId('Moderator');
    const allow = await e2e().discord.slash('comfy config allow', { command: 'upscale', role: moderatorRole }, { roles: ['Moderator'] });
    expect(await ephemeralContent(allow.token)).toContain('/upscale');
    const { discord } = e2e();
    const before = downloads(discord);
    const { token } = await discord.slash('upscale', {}, { userId: member(), attachments: [{ name: 'photo.jpg', bytes: await photo(), contentType: 'image/jpeg' }] });
    expect(embedOf(await finalRevision(token, 'Not queued'))?.description).toMatch(/^❌ .*role/i);
    expect(downloads(discord)).toBe(before);

    // The interval after a job that was queued: the second attachment is never fetched.
    const busy = member();
    expect((await reimagine({}, busy, 'Done')).downloaded).toBe(1);
    const second = await reimagine({}, busy);
    expect(second).toMatchObject({ text: expect.stringMatching(/^❌ Please wait \d+ s between jobs/), downloaded: 0 });
  });
});

describe('a blocked pattern the bot cannot run', () => {
  it('refuses nobody and is reported to the server owner once', async () => {
    // Stored before patterns were checked with RE2 (lookaround): `/comfy config block` refuses it now.
    const store = openJobStore({ dataDir: e2e().dataDir });
    try {
      store.setGuildSettings(e2e().discord.guildId, { blockedPatterns: ['cat(?=s)', 'forbidden'] });
    } finally {
      store.close();
    }
    const { discord } = e2e();
    // The server's owner, a member the bot can open a DM with.
    const ownerId = discord.guild().ownerId;
    if (!discord.guild().members.has(ownerId)) discord.addMember({ id: ownerId, username: 'owner' });
    const first = await discord.slash('imagine', { prompt: 'two cats' }, { userId: member() });
    await finalRevision(first.token, 'Done');
    const dm = await discord.waitFor((d) => {
      const channel = d.dmChannelFor(ownerId);
      return channel ? d.messagesInChannel(channel).find((m) => currentRevision(m).content.includes('cat(?=s)')) : undefined;
    }, { description: 'the DM to the server owner' });
    expect(currentRevision(dm).content).toContain('is no longer applied');
    const second = await discord.slash('imagine', { prompt: 'more cats' }, { userId: member() });
    await finalRevision(second.token, 'Done');
    const channel = discord.dmChannelFor(ownerId)!;
    expect(discord.messagesInChannel(channel).filter((m) => currentRevision(m).content.includes('cat(?=s)'))).toHaveLength(1);
  });
});

describe('what is kept of an attachment', () => {
  it('says an image past the pixel limit is too large, with its size and the limit', async () => {
    const { discord } = e2e();
    const { token } = await discord.slash('reimagine', { prompt: 'x' }, {
      userId: member(),
      attachments: [{ name: 'bomb.png', bytes: pngHeaderOnly(30_000, 30_000), contentType: 'image/png' }],
    });
    expect(embedOf(await finalRevision(token, 'Not queued'))?.description).toBe(
      '❌ image: the image is too large (30000×30000, the limit is 16.8 megapixels)',
    );
  });

  it('keeps the member’s JPEG as a JPEG on disk, pixels untouched, metadata stripped', async () => {
    const sent = await photo();
    const { discord } = e2e();
    const { token } = await discord.slash('reimagine', { prompt: 'in blue' }, {
      userId: member(),
      attachments: [{ name: 'holiday.jpg', bytes: sent, contentType: 'image/jpeg' }],
    });
    await finalRevision(token, 'Done');

    const inputs = join(e2e().dataDir, 'inputs');
    const kept = readdirSync(inputs).map((name) => readFileSync(join(inputs, name)));
    const jpegs = kept.filter((bytes) => bytes[0] === 0xff && bytes[1] === 0xd8);
    expect(jpegs.length).toBeGreaterThan(0);
    expect(kept.some((bytes) => bytes.includes('secret-location-42'))).toBe(false);
    const [before, after] = await Promise.all([sharp(sent).raw().toBuffer(), sharp(jpegs.at(-1)!).raw().toBuffer()]);
    expect(after.equals(before)).toBe(true);
  });
});
