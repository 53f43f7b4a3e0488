import { describe, expect, it } from 'vitest';
import type { APIEmbed } from 'discord.js';
import { decodeCustomId } from './customIds.js';
import { formatDuration, progressBar, renderCard, type CardAction, type CardPayload, type CardState, type CardView } from './cardRenderer.js';
import { EMBED_LIMITS, fitEmbed, truncate } from './embedLimits.js';

const preview = { bytes: Buffer.from('RIFFxxxxWEBP'), mime: 'image/webp' as const };

const actions: CardAction[] = [
  { name: 'reroll', label: 'Reroll', style: 'primary', per: 'job' },
  { name: 'edit', label: 'Edit', style: 'secondary', per: 'job' },
  { name: 'upscale', label: 'Upscale', style: 'secondary', per: 'output' },
];

function view(state: CardState, extra: Partial<CardView> = {}): CardView {
  return { jobId: 'j1', ownerId: '42', command: 'draw', promptKey: 'prompt', params: { prompt: 'a cat', seed: 7, steps: 20 }, actions, state, ...extra };
}

function embedTotal(embed: APIEmbed): number {
  return (
    (embed.title?.length ?? 0) +
    (embed.description?.length ?? 0) +
    (embed.footer?.text.length ?? 0) +
    (embed.fields ?? []).reduce((n, f) => n + f.name.length + f.value.length, 0)
  );
}

function expectWithinLimits(payload: CardPayload): void {
  expect(payload.embeds.length).toBeLessThanOrEqual(10);
  expect((payload.content ?? '').length).toBeLessThanOrEqual(2000);
  for (const embed of payload.embeds) {
    expect(embedTotal(embed)).toBeLessThanOrEqual(EMBED_LIMITS.total);
    expect(embed.title?.length ?? 0).toBeLessThanOrEqual(EMBED_LIMITS.title);
    expect(embed.description?.length ?? 0).toBeLessThanOrEqual(EMBED_LIMITS.description);
    expect(embed.fields?.length ?? 0).toBeLessThanOrEqual(EMBED_LIMITS.fields);
    for (const field of embed.fields ?? []) {
      expect(field.name.length).toBeGreaterThan(0);
      expect(field.name.length).toBeLessThanOrEqual(EMBED_LIMITS.fieldName);
      expect(field.value.length).toBeGreaterThan(0);
      expect(field.value.length).toBeLessThanOrEqual(EMBED_LIMITS.fieldValue);
    }
  }
  expect(payload.components.length).toBeLessThanOrEqual(5);
  const ids = payload.components.flatMap((row) => row.components.map((b) => b.custom_id));
  expect(new Set(ids).size).toBe(ids.length);
  for (const row of payload.components) {
    expect(row.components.length).toBeGreaterThan(0);
    expect(row.components.length).toBeLessThanOrEqual(5);
    for (const b of row.components) {
      expect(b.custom_id.length).toBeLessThanOrEqual(100);
      expect(decodeCustomId(b.custom_id)).not.toBeNull();
    }
  }
}

function payloadRows(payload: CardPayload): string[][] {
  return payload.components.map((row) => row.components.map((b) => b.custom_id));
}

function buttonIds(payload: CardPayload): string[] {
  return payload.components.flatMap((row) => row.components.map((b) => b.custom_id));
}

const hostile = '💥'.repeat(3000) + '`'.repeat(500) + '@everyone **bold**';
const hostileParams = Object.fromEntries(Array.from({ length: 40 }, (_, i) => [`p${i}${'n'.repeat(300)}`, hostile]));
const allStates: CardState[] = [
  { kind: 'queued', position: 3, of: 9, etaSeconds: 95 },
  { kind: 'running', elapsedSeconds: 65, step: { value: 12, max: 20 }, nodes: { done: 3, total: 7 }, nodeTitle: hostile, preview },
  { kind: 'succeeded', summary: hostile, notes: [hostile, hostile], imageName: 'draw_j1_1.png', outputCount: 40, elapsedSeconds: 12, gpuSeconds: 99_999 },
  { kind: 'failed', message: hostile },
  { kind: 'cancelled', byUserId: '99' },
];

describe('renderCard', () => {
  it.each(allStates)('renders state %#, with hostile text, within Discord limits', (state) => {
    const payload = renderCard(view(state, { params: { ...hostileParams, prompt: hostile }, command: 'x'.repeat(300), mentionOwner: true }));
    expectWithinLimits(payload);
  });

  it('shows position and ETA while queued, with a Cancel button', () => {
    const payload = renderCard(view({ kind: 'queued', position: 2, of: 5, etaSeconds: 90 }));
    expect(payload.embeds[0]?.description).toContain('position 2 of 5');
    expect(payload.embeds[0]?.description).toContain('1m 30s');
    expect(buttonIds(payload)).toEqual(['job:j1:cancel']);
    expect(payload.files).toBeUndefined();
    // A queued card may be one back from a lost backend: the old run's preview must go.
    expect(payload.attachments).toEqual([]);
  });

  it('shows the GPU time of a finished job when it was measured, and nothing when not', () => {
    const done = renderCard(view({ kind: 'succeeded', summary: '1 image', notes: [], elapsedSeconds: 75, gpuSeconds: 62.4 }));
    expect(done.embeds[0]?.description).toContain('✅ 1 image in 1m 15s · GPU time 1m 02s');
    const unmeasured = renderCard(view({ kind: 'succeeded', summary: '1 image', notes: [], elapsedSeconds: 75 }));
    expect(unmeasured.embeds[0]?.description).not.toContain('GPU time');
  });

  it('says about how long a running job has left when that is known and at least a second', () => {
    const text = (state: CardState) => renderCard(view(state)).embeds[0]?.description ?? '';
    expect(text({ kind: 'running', elapsedSeconds: 12, leftSeconds: 64.4 })).toContain('Elapsed 12s · about 1m 04s left');
    expect(text({ kind: 'running', elapsedSeconds: 12, leftSeconds: 0.4 })).not.toContain('left');
    expect(text({ kind: 'running', elapsedSeconds: 12 })).not.toContain('left');
  });

  it('tells the owner about an outage: the server went away, the wait for one, the move to another', () => {
    const text = (state: CardState) => renderCard(view(state)).embeds[0]?.description ?? '';
    const away = text({ kind: 'running', elapsedSeconds: 12, step: { value: 1, max: 6 }, outage: { kind: 'away' } });
    expect(away).toContain('⚠️ ComfyUI went away: the job will resume when it is back');
    expect(away).toContain('1/6');
    const waiting = text({ kind: 'queued', position: 2, of: 3, etaSeconds: null, outage: { kind: 'waiting', upToSeconds: 600 } });
    expect(waiting).toContain('Waiting for a ComfyUI server to come back (up to 10 min)');
    expect(waiting).toContain('Position 2 of 3');
    expect(text({ kind: 'queued', position: 1, of: 1, outage: { kind: 'waiting', upToSeconds: 90 } })).toBe('>>> a cat\n\n⚠️ Waiting for a ComfyUI server to come back (up to 1m 30s)');
    expect(text({ kind: 'running', elapsedSeconds: 0, outage: { kind: 'resumed', moved: true } })).toContain('the job moved to another backend');
    expect(text({ kind: 'running', elapsedSeconds: 0, outage: { kind: 'resumed', moved: false } })).toContain('it was submitted again');
    // The leader process was lost (several processes): a standby says so, knowing no place in the queue.
    expect(text({ kind: 'queued', position: 1, of: 1, outage: { kind: 'leader-lost' } })).toBe('>>> a cat\n\n⚠️ The bot lost its leader process: the job will resume in a few seconds');
  });

  it("says a held job waits for its server's admins, with no ETA", () => {
    const description = renderCard(view({ kind: 'queued', position: 4, of: 5, etaSeconds: null, held: true })).embeds[0]?.description ?? '';
    expect(description).toContain("this server's admins have paused its jobs (position 4 of 5)");
    expect(description).not.toContain('starts in about');
  });

  it('clears the attachments in every state that shows no preview, and only there', () => {
    const withoutPreview: CardState[] = [
      { kind: 'queued', position: 1, of: 1 },
      { kind: 'running', elapsedSeconds: 3 },
      { kind: 'running', elapsedSeconds: 3, step: { value: 1, max: 20 }, preview: null },
      { kind: 'succeeded', summary: '1 image', notes: [] },
      { kind: 'failed', message: 'boom' },
      { kind: 'cancelled', byUserId: null },
    ];
    for (const state of withoutPreview) expect(renderCard(view(state)).attachments, state.kind).toEqual([]);
    const previewing = renderCard(view({ kind: 'running', elapsedSeconds: 3, preview: { bytes: Buffer.from('webp'), mime: 'image/webp' } }));
    expect(previewing.files?.map((f) => f.name)).toEqual(['preview.webp']);
    expect(previewing.attachments).toBeUndefined();
  });

  it('says "next in line" for position 1 and leaves out an unknown ETA', () => {
    const description = renderCard(view({ kind: 'queued', position: 1, of: 1 })).embeds[0]?.description ?? '';
    expect(description).toContain('next in line');
    expect(description).not.toContain('starts in');
  });

  it('attaches the latest preview under a stable name and points the embed at it', () => {
    const payload = renderCard(
      view({ kind: 'running', elapsedSeconds: 5, step: { value: 12, max: 20 }, nodes: { done: 3, total: 7 }, nodeTitle: 'KSampler', preview }),
    );
    expect(payload.files).toEqual([{ name: 'preview.webp', attachment: preview.bytes }]);
    expect(payload.embeds[0]?.image?.url).toBe('attachment://preview.webp');
    expect(payload.embeds[0]?.description).toContain('▰▰▰▰▰▰▰▱▱▱▱▱ 12/20');
    expect(payload.embeds[0]?.description).toContain('3/7');
    expect(payload.embeds[0]?.description).toContain('KSampler');
    expect(buttonIds(payload)).toEqual(['job:j1:cancel']);
    const jpeg = renderCard(view({ kind: 'running', elapsedSeconds: 1, preview: { bytes: Buffer.from('x'), mime: 'image/jpeg' } }));
    expect(jpeg.files?.[0]?.name).toBe('preview.jpg');
  });

  it('sends no files while running without a preview', () => {
    const payload = renderCard(view({ kind: 'running', elapsedSeconds: 1 }));
    expect(payload.files).toBeUndefined();
    expect(payload.embeds[0]?.image).toBeUndefined();
  });

  it('offers result buttons and clears the preview when done', () => {
    const payload = renderCard(
      view({ kind: 'succeeded', summary: '2 images', notes: ['image 2 re-encoded as JPEG to fit 10 MiB'], imageName: 'draw_j1_1.png', outputCount: 2 }),
    );
    expect(buttonIds(payload)).toEqual(['job:j1:reroll', 'job:j1:edit', 'job:j1:delete', 'job:j1:upscale:1', 'job:j1:upscale:2']);
    expect(payload.components).toHaveLength(2);
    expect(payload.attachments).toEqual([]);
    expect(payload.embeds[0]?.image?.url).toBe('attachment://draw_j1_1.png');
    expect(payload.embeds[0]?.fields?.[0]).toMatchObject({ name: 'Notes' });
    expect(payload.embeds[0]?.fields?.[0]?.value).toContain('re-encoded as JPEG');
    expect(payload.embeds[0]?.fields?.some((f) => f.name === 'seed' && f.value === '`7`')).toBe(true);
  });

  it('shows only the actions the command declares, and no Delete on ephemeral cards', () => {
    const payload = renderCard(view({ kind: 'succeeded', summary: '1 image', notes: [], outputCount: 1 }, { actions: actions.slice(0, 1), ephemeral: true }));
    expect(buttonIds(payload)).toEqual(['job:j1:reroll']);
  });

  it('labels, styles and decorates action buttons as declared', () => {
    const declared: CardAction[] = [
      { name: 'vary', label: 'V{n}', style: 'success', per: 'output' },
      { name: 'zoom', label: 'Zoom Out', emoji: '🔍', style: 'primary', per: 'job' },
      { name: 'pan', label: 'Pan', emoji: '<:arrow:123456789012345678>', style: 'danger', per: 'job' },
    ];
    const payload = renderCard(view({ kind: 'succeeded', summary: '', notes: [], outputCount: 2 }, { actions: declared }));
    expect(payload.components.map((row) => row.components.map((b) => [b.custom_id, b.label, b.style, b.emoji]))).toEqual([
      [
        ['job:j1:zoom', 'Zoom Out', 1, { name: '🔍' }],
        ['job:j1:pan', 'Pan', 4, { name: 'arrow', id: '123456789012345678' }],
        ['job:j1:delete', 'Delete', 4, undefined],
      ],
      [
        ['job:j1:vary:1', 'V1', 3, undefined],
        ['job:j1:vary:2', 'V2', 3, undefined],
      ],
    ]);
  });

  it('adds U1-UN and Files to a grid card, and acts on one image on its own message', () => {
    const grid = renderCard(view({ kind: 'succeeded', summary: '3 images', notes: [], outputCount: 3, grid: true }));
    expect(payloadRows(grid)).toEqual([
      ['job:j1:reroll', 'job:j1:edit', 'job:j1:files', 'job:j1:delete'],
      ['job:j1:pick:1', 'job:j1:pick:2', 'job:j1:pick:3'],
      ['job:j1:upscale:1', 'job:j1:upscale:2', 'job:j1:upscale:3'],
    ]);
    const single = renderCard(view({ kind: 'succeeded', summary: 'Image 2 of 3', notes: [], outputCount: 3, onlyOutput: 2 }));
    expect(payloadRows(single)).toEqual([['job:j1:reroll', 'job:j1:edit', 'job:j1:delete'], ['job:j1:upscale:2']]);
  });

  it('shows per-image actions only where one image is shown, packed with the per-output ones', () => {
    const declared: CardAction[] = [...actions, { name: 'pan-left', label: 'Pan', emoji: '⬅️', style: 'secondary', per: 'image' }];
    const single = renderCard(view({ kind: 'succeeded', summary: '', notes: [], outputCount: 1 }, { actions: declared }));
    expect(payloadRows(single)).toEqual([['job:j1:reroll', 'job:j1:edit', 'job:j1:delete'], ['job:j1:upscale:1', 'job:j1:pan-left:1']]);
    expect(single.components[1]?.components.map((b) => b.label)).toEqual(['Upscale 1', 'Pan']);
    const batch = renderCard(view({ kind: 'succeeded', summary: '', notes: [], outputCount: 2, grid: true }, { actions: declared }));
    expect(payloadRows(batch).flat().some((id) => id.includes('pan-left'))).toBe(false);
  });

  it('gives per-output actions no buttons when there is no image', () => {
    expect(buttonIds(renderCard(view({ kind: 'succeeded', summary: 'a text', notes: [], outputCount: 0 })))).toEqual(['job:j1:reroll', 'job:j1:edit', 'job:j1:delete']);
  });

  it('caps per-output buttons so the rows stay within five', () => {
    const many: CardAction[] = Array.from({ length: 9 }, (_, i) => ({ name: `a${i}`, label: `A${i}`, style: 'secondary', per: 'output' }));
    const payload = renderCard(view({ kind: 'succeeded', summary: '', notes: [], outputCount: 500 }, { actions: many }));
    expect(payload.components).toHaveLength(5);
    expect(buttonIds(payload).filter((id) => id.startsWith('job:j1:a0:'))).toHaveLength(5);
    expectWithinLimits(payload);
  });

  it('links a job made by an action to its parent card', () => {
    const parent = { url: 'https://discord.com/channels/1/2/3', command: 'imagine', output: 2 };
    const payload = renderCard(view({ kind: 'queued', position: 1, of: 1 }, { parent }));
    expect(payload.embeds[0]?.description?.split('\n')[0]).toBe('↪️ Variation of [/imagine (image 2)](https://discord.com/channels/1/2/3)');
    const unknown = renderCard(view({ kind: 'queued', position: 1, of: 1 }, { parent: { url: null, command: null, output: null } }));
    expect(unknown.embeds[0]?.description?.split('\n')[0]).toBe('↪️ Variation of an earlier job');
  });

  it('tells failures and cancellations in words, without buttons', () => {
    const failed = renderCard(view({ kind: 'failed', message: 'steps: 80 is above the maximum 50' }));
    expect(failed.embeds[0]?.description).toContain('steps: 80 is above the maximum 50');
    expect(failed.components).toEqual([]);
    expect(failed.attachments).toEqual([]);
    expect(renderCard(view({ kind: 'cancelled', byUserId: '99' })).embeds[0]?.description).toContain('<@99>');
    expect(renderCard(view({ kind: 'cancelled', byUserId: null })).embeds[0]?.description).toContain('by the bot');
  });

  it('pings only the owner when asked to', () => {
    const payload = renderCard(view({ kind: 'queued', position: 1, of: 1 }, { mentionOwner: true }));
    expect(payload.content).toBe('<@42>');
    expect(payload.allowedMentions).toEqual({ users: ['42'], parse: [] });
    expect(renderCard(view({ kind: 'queued', position: 1, of: 1 })).content).toBeUndefined();
  });

  it('shows the prompt as the text, not as a field, and prints big seeds exactly', () => {
    const payload = renderCard(view({ kind: 'queued', position: 1, of: 1 }, { params: { prompt: 'a *cat*', seed: 18446744073709551615n } }));
    expect(payload.embeds[0]?.description).toMatch(/^>>> a \\\*cat\\\*\n/);
    expect(payload.embeds[0]?.fields?.map((f) => [f.name, f.value])).toEqual([['seed', '`18446744073709551615`']]);
  });

  it('keeps parameter values from breaking out of their code span', () => {
    const payload = renderCard(view({ kind: 'failed', message: 'x' }, { params: { prompt: 'p', other: 'a`b`\nc' } }));
    expect(payload.embeds[0]?.fields?.[0]?.value).toBe('`aˋbˋ c`');
  });
});

describe('progressBar and formatDuration', () => {
  it('draws proportional bars and survives nonsense', () => {
    expect(progressBar(0, 20, 6)).toBe('▱▱▱▱▱▱ 0/20');
    expect(progressBar(20, 20, 6)).toBe('▰▰▰▰▰▰ 20/20');
    expect(progressBar(30, 20, 6)).toBe('▰▰▰▰▰▰ 20/20');
    expect(progressBar(5, 0, 6)).toBe('▱▱▱▱▱▱ 0/0');
    expect(progressBar(Number.NaN, 10, 6)).toBe('▱▱▱▱▱▱ 0/10');
  });

  it('formats seconds, minutes and hours', () => {
    expect(formatDuration(42)).toBe('42s');
    expect(formatDuration(65)).toBe('1m 05s');
    expect(formatDuration(3720)).toBe('1h 02m');
    expect(formatDuration(-3)).toBe('0s');
  });
});

describe('fitEmbed', () => {
  it('never splits a surrogate pair when truncating', () => {
    const cut = truncate('a😀😀', 3);
    expect(cut).toBe('a…');
  });

  it('drops trailing fields with a count when the total is too large', () => {
    const fields = Array.from({ length: 10 }, (_, i) => ({ name: `f${i}`, value: 'v'.repeat(1000) }));
    const fitted = fitEmbed({ description: 'd'.repeat(100), fields });
    expect(embedTotal(fitted)).toBeLessThanOrEqual(6000);
    const last = fitted.fields?.at(-1);
    expect(last?.value).toMatch(/^\d+ more not shown$/);
    expect(fitted.fields?.[0]?.name).toBe('f0');
  });

  it('keeps at most 25 fields', () => {
    const fitted = fitEmbed({ fields: Array.from({ length: 30 }, (_, i) => ({ name: `f${i}`, value: 'v' })) });
    expect(fitted.fields).toHaveLength(25);
    expect(fitted.fields?.[24]?.value).toBe('6 more not shown');
  });
});
