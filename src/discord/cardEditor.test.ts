import { describe, expect, it, vi } from 'vitest';
import { DiscordAPIError, RateLimitError } from 'discord.js';
import { CardEditor, type CardEditorEvent, type CardTransport, type Unreachable } from './cardEditor.js';
import type { CardPayload, CardState, CardView } from './cardRenderer.js';
import { ChannelPacer, ChannelPacers, type EditBucket } from './channelPacer.js';
import { useFakeTimers } from '../../test/discord/fake-timers.js';

interface Call {
  via: 'edit' | 'post';
  at: number;
  payload: CardPayload;
  description: string;
}

/** Records every request; `failNext` scripts errors; `hold` keeps requests in flight until released. */
class FakeTransport implements CardTransport {
  readonly calls: Call[] = [];
  expiresAt: number | null = null;
  canPost = true;
  /** Set while the next edit answers the interaction (DiscordCardTransport: until its first edit went through). */
  answering = false;
  hold = false;
  private readonly held: Array<() => void> = [];
  private readonly failures: unknown[] = [];

  failNext(...errors: unknown[]): void {
    this.failures.push(...errors);
  }

  release(): void {
    for (const resolve of this.held.splice(0)) resolve();
  }

  edit(payload: CardPayload): Promise<void> {
    return this.request('edit', payload).then(() => {
      this.answering = false;
    });
  }

  post(payload: CardPayload): Promise<void> {
    return this.request('post', payload).then(() => {
      this.expiresAt = null;
    });
  }

  private async request(via: 'edit' | 'post', payload: CardPayload): Promise<void> {
    this.calls.push({ via, at: Date.now(), payload, description: payload.embeds[0]?.description ?? '' });
    if (this.hold) await new Promise<void>((resolve) => this.held.push(resolve));
    const failure = this.failures.shift();
    if (failure !== undefined) throw failure;
  }
}

function apiError(code: number, status: number, message = 'error'): DiscordAPIError {
  return new DiscordAPIError({ code, message }, code, status, 'PATCH', '/webhooks/1/t/messages/@original', {});
}

function rateLimit(retryAfter: number): RateLimitError {
  return new RateLimitError({
    timeToReset: retryAfter,
    limit: 5,
    method: 'PATCH',
    hash: 'h',
    url: '/webhooks/1/t/messages/@original',
    route: '/webhooks/:id/:token/messages/:id',
    majorParameter: '1',
    global: false,
    retryAfter,
    sublimitTimeout: 0,
    scope: 'user',
  });
}

const preview = { bytes: Buffer.from('preview'), mime: 'image/webp' as const };

function view(state: CardState, jobId = 'j1'): CardView {
  return { jobId, ownerId: '42', command: 'draw', promptKey: 'prompt', params: { prompt: 'a cat', seed: 1 }, state };
}
const running = (value: number, withPreview = false): CardView =>
  view({ kind: 'running', elapsedSeconds: value, step: { value, max: 100 }, ...(withPreview ? { preview: { ...preview, bytes: Buffer.from(`p${value}`) } } : {}) });
const done = (jobId = 'j1'): CardView => view({ kind: 'succeeded', summary: '1 image', notes: [] }, jobId);

// The channel pacer (bottleneck) grants a free slot after a few timer hops, which fake timers count as 1 ms each.
const GRANT_MS = 5;
const advanceTo = (at: number) => vi.advanceTimersByTimeAsync(at - Date.now());

function gaps(calls: Call[]): number[] {
  return calls.slice(1).map((call, i) => call.at - (calls[i]?.at ?? 0));
}

const start = useFakeTimers();

function setup(options: { pacer?: ChannelPacer; transport?: FakeTransport; editBucket?: EditBucket } = {}) {
  const transport = options.transport ?? new FakeTransport();
  const events: CardEditorEvent[] = [];
  const unreachable: Unreachable[] = [];
  const editor = new CardEditor({
    transport,
    pacer: options.pacer ?? new ChannelPacer(),
    onEvent: (event) => events.push(event),
    onUnreachable: (info) => unreachable.push(info),
    ...(options.editBucket ? { editBucket: () => options.editBucket ?? 'channel' } : {}),
  });
  return { transport, editor, events, unreachable };
}

describe('CardEditor coalescing and spacing', () => {
  it('keeps only the latest state while an edit is in flight', async () => {
    const { transport, editor } = setup();
    transport.hold = true;
    editor.update(running(1));
    await vi.advanceTimersByTimeAsync(GRANT_MS);
    expect(transport.calls).toHaveLength(1);
    editor.update(running(2));
    editor.update(running(3));
    editor.update(running(4));
    await vi.advanceTimersByTimeAsync(5000);
    expect(transport.calls).toHaveLength(1);
    transport.hold = false;
    transport.release();
    await vi.advanceTimersByTimeAsync(5000);
    expect(transport.calls.map((c) => c.description)).toEqual([
      expect.stringContaining(' 1/100'),
      expect.stringContaining(' 4/100'),
    ]);
    expect(editor.stats.coalesced).toBe(2);
  });

  it('spaces text edits by 2 s and image edits by 1.2 s per message', async () => {
    const { transport, editor } = setup({ pacer: new ChannelPacer({ maxEdits: 100, windowMs: 1000 }) });
    for (let i = 0; i < 100; i += 1) {
      editor.update(running(i));
      await vi.advanceTimersByTimeAsync(100);
    }
    const textGaps = gaps(transport.calls);
    expect(textGaps.length).toBeGreaterThan(3);
    expect(Math.min(...textGaps)).toBeGreaterThanOrEqual(2000);

    const images = setup({ pacer: new ChannelPacer({ maxEdits: 100, windowMs: 1000 }) });
    for (let i = 0; i < 50; i += 1) {
      images.editor.update(running(i, true));
      await vi.advanceTimersByTimeAsync(100);
    }
    expect(Math.min(...gaps(images.transport.calls))).toBeGreaterThanOrEqual(1200);
  });

  it('updates the queue position at a slow pace', async () => {
    const { transport, editor } = setup();
    for (let i = 10; i > 0; i -= 1) {
      editor.update(view({ kind: 'queued', position: i, of: 10 }));
      await vi.advanceTimersByTimeAsync(1000);
    }
    expect(Math.min(...gaps(transport.calls))).toBeGreaterThanOrEqual(5000);
    // the first running frame does not wait for the slow queue pace
    editor.update(running(1));
    const before = transport.calls.length;
    await vi.advanceTimersByTimeAsync(1000);
    expect(transport.calls.length).toBe(before + 1);
  });

  it('builds a live view only when its edit goes out, with the state as it is then', async () => {
    const { transport, editor } = setup();
    let step = 0;
    const build = vi.fn(() => running(step));
    editor.update(running(0));
    await vi.advanceTimersByTimeAsync(GRANT_MS);
    for (step = 1; step <= 15; step += 1) {
      editor.update({ kind: 'running', withImage: false, build });
      await vi.advanceTimersByTimeAsync(100);
    }
    expect(build).not.toHaveBeenCalled();
    step = 42;
    await vi.advanceTimersByTimeAsync(1000);
    expect(transport.calls.map((c) => c.description)).toEqual([expect.stringContaining(' 0/100'), expect.stringContaining(' 42/100')]);
    // once for the duplicate check before the channel turn, once for the edit itself
    expect(build).toHaveBeenCalledTimes(2);
  });

  it('takes the same live view again as a no-op, counted as coalesced, and still sends the newest state', async () => {
    const { transport, editor } = setup();
    let step = 0;
    const live = { kind: 'running' as const, withImage: false, build: () => running(step) };
    editor.update(running(0));
    await vi.advanceTimersByTimeAsync(GRANT_MS);
    const timers = vi.getTimerCount();
    for (step = 1; step <= 5; step += 1) editor.update(live);
    // the first took the pending slot; the other four found it there and set no timer of their own
    expect(editor.stats.coalesced).toBe(4);
    expect(vi.getTimerCount()).toBe(timers + 1);
    step = 9;
    await vi.advanceTimersByTimeAsync(2500);
    expect(transport.calls.map((c) => c.description)).toEqual([expect.stringContaining(' 0/100'), expect.stringContaining(' 9/100')]);
  });

  it('holds a progress edit due within one spacing of the expected end, and sends the result instead', async () => {
    const { transport, editor } = setup();
    const endsAt = Date.now() + 3000;
    const live = (step: number) => ({ kind: 'running' as const, withImage: false, endsAt, build: () => running(step) });
    editor.update(live(0));
    await vi.advanceTimersByTimeAsync(GRANT_MS);
    // the next edit would be due at 2 s, one second before the expected end
    for (let step = 1; step <= 25; step += 1) {
      editor.update(live(step));
      await vi.advanceTimersByTimeAsync(100);
    }
    expect(transport.calls).toHaveLength(1);
    void editor.finish(done());
    await vi.advanceTimersByTimeAsync(GRANT_MS);
    expect(transport.calls.map((c) => c.description)).toEqual([expect.stringContaining(' 0/100'), expect.stringContaining('1 image')]);
  });

  it('sends the held progress edit one spacing after the expected end when the job runs late', async () => {
    const { transport, editor } = setup();
    const t0 = Date.now();
    const live = (step: number) => ({ kind: 'running' as const, withImage: false, endsAt: t0 + 3000, build: () => running(step) });
    editor.update(live(0));
    await vi.advanceTimersByTimeAsync(GRANT_MS);
    editor.update(live(1));
    await advanceTo(t0 + 4900);
    expect(transport.calls).toHaveLength(1);
    await advanceTo(t0 + 5000 + GRANT_MS);
    expect(transport.calls.map((c) => c.description)).toEqual([expect.stringContaining(' 0/100'), expect.stringContaining(' 1/100')]);
    // later progress goes by the usual spacing again
    editor.update(live(2));
    await advanceTo(t0 + 7100);
    expect(transport.calls).toHaveLength(3);
  });

  it('never holds the edit that answers the interaction', async () => {
    const transport = new FakeTransport();
    transport.answering = true;
    const { editor } = setup({ transport });
    editor.update({ kind: 'running', withImage: false, endsAt: Date.now() + 500, build: () => running(1) });
    await vi.advanceTimersByTimeAsync(GRANT_MS);
    expect(transport.calls).toHaveLength(1);
  });

  it('does not resend a state Discord already shows', async () => {
    const { transport, editor } = setup();
    editor.update(running(1));
    await vi.advanceTimersByTimeAsync(2000);
    editor.update(running(1));
    await vi.advanceTimersByTimeAsync(2000);
    expect(transport.calls).toHaveLength(1);
    expect(editor.stats.deduplicated).toBe(1);
  });

  it('shares about 4 edits per 5 s between the cards of one channel', async () => {
    const pacer = new ChannelPacer();
    const cards = ['a', 'b', 'c'].map(() => setup({ pacer }));
    for (let t = 0; t < 200; t += 1) {
      for (const [n, card] of cards.entries()) card.editor.update(view({ kind: 'running', elapsedSeconds: t, step: { value: t, max: 200 } }, `j${n}`));
      await vi.advanceTimersByTimeAsync(100);
    }
    const times = cards.flatMap((card) => card.transport.calls.map((c) => c.at)).sort((a, b) => a - b);
    for (const [i, at] of times.entries()) {
      const inWindow = times.filter((other) => other >= at && other < at + 5000).length;
      expect(inWindow, `window starting at edit ${i}`).toBeLessThanOrEqual(4);
    }
    for (const card of cards) expect(card.transport.calls.length).toBeGreaterThanOrEqual(4);
  });
});

describe('CardEditor final state', () => {
  it('sends the final state after the in-flight edit and ignores later updates', async () => {
    const { transport, editor } = setup();
    transport.hold = true;
    editor.update(running(1));
    await vi.advanceTimersByTimeAsync(GRANT_MS);
    editor.update(running(2));
    const finished = editor.finish(done());
    editor.update(running(3));
    transport.hold = false;
    transport.release();
    await vi.advanceTimersByTimeAsync(2000);
    await expect(finished).resolves.toEqual({ delivered: true, via: 'edit' });
    expect(transport.calls.map((c) => c.payload.embeds[0]?.title)).toEqual(['/draw · Running', '/draw · Done']);
    expect(await editor.finish(done())).toEqual({ delivered: true, via: 'edit' });
  });

  it('stops on shutdown without sending what is pending', async () => {
    const { transport, editor } = setup();
    editor.update(running(1));
    await vi.advanceTimersByTimeAsync(GRANT_MS);
    editor.update(running(2));
    const finished = editor.finish(done());
    editor.stop();
    await vi.advanceTimersByTimeAsync(5000);
    await expect(finished).resolves.toEqual({ delivered: false, reason: 'the bot is shutting down' });
    expect(transport.calls).toHaveLength(1);
    expect(editor.closed).toBe(true);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('attaches the delivered files to the final edit', async () => {
    const { transport, editor } = setup();
    const file = { name: 'draw_j1_1.png', attachment: Buffer.from('png') };
    const finished = editor.finish(done(), [file]);
    await vi.advanceTimersByTimeAsync(GRANT_MS);
    await finished;
    expect(transport.calls[0]?.payload.files).toEqual([file]);
    expect(transport.calls[0]?.payload.attachments).toEqual([]);
  });

  it('waits out 429s on the final state instead of dropping it', async () => {
    const { transport, editor, events } = setup();
    transport.failNext(rateLimit(3000), apiError(429, 429));
    const finished = editor.finish(done());
    await vi.advanceTimersByTimeAsync(GRANT_MS);
    expect(transport.calls).toHaveLength(1);
    const firstAt = transport.calls[0]?.at ?? Number.NaN;
    await advanceTo(firstAt + 2999);
    expect(transport.calls).toHaveLength(1);
    await advanceTo(firstAt + 3000 + GRANT_MS);
    expect(transport.calls).toHaveLength(2);
    expect(transport.calls[1]?.at).toBeGreaterThanOrEqual(firstAt + 3000);
    await vi.advanceTimersByTimeAsync(5000);
    await expect(finished).resolves.toEqual({ delivered: true, via: 'edit' });
    expect(transport.calls).toHaveLength(3);
    expect(events.filter((e) => e.type === 'rate-limited')).toHaveLength(2);
  });

  it('skips a progress frame hit by a 429 and backs off by its retry-after', async () => {
    const { transport, editor } = setup();
    transport.failNext(rateLimit(4000));
    editor.update(running(1));
    await vi.advanceTimersByTimeAsync(GRANT_MS);
    editor.update(running(2));
    const firstAt = transport.calls[0]?.at ?? Number.NaN;
    await advanceTo(firstAt + 3999);
    expect(transport.calls).toHaveLength(1);
    await advanceTo(firstAt + 4000 + GRANT_MS);
    expect(transport.calls[1]?.at).toBeGreaterThanOrEqual(firstAt + 4000);
    expect(transport.calls.map((c) => c.description)).toEqual([
      expect.stringContaining(' 1/100'),
      expect.stringContaining(' 2/100'),
    ]);
    expect(editor.stats).toMatchObject({ rateLimited: 1, dropped: 1, edits: 1 });
  });

  it('retries a final edit that fails for other reasons, then gives up and says so', async () => {
    const { transport, editor, unreachable } = setup();
    transport.failNext(apiError(0, 500, 'Internal Server Error'), apiError(0, 502, 'Bad Gateway'), apiError(0, 503, 'Unavailable'));
    const finished = editor.finish(done());
    await vi.advanceTimersByTimeAsync(60_000);
    const outcome = await finished;
    expect(outcome.delivered).toBe(false);
    expect(outcome).toMatchObject({ reason: expect.stringContaining('failed 3 times') });
    expect(unreachable).toEqual([expect.objectContaining({ reason: 'failed', view: done() })]);
  });

  it('lands the final state on the second try after a server error', async () => {
    const { transport, editor } = setup();
    transport.failNext(apiError(0, 500, 'Internal Server Error'));
    const finished = editor.finish(done());
    await vi.advanceTimersByTimeAsync(10_000);
    await expect(finished).resolves.toEqual({ delivered: true, via: 'edit' });
    expect(transport.calls).toHaveLength(2);
  });
});

describe('CardEditor ordering in a busy channel', () => {
  const queued = (position: number, jobId: string): CardView => view({ kind: 'queued', position, of: 9 }, jobId);

  it('sends a final state ahead of other cards’ progress and queue updates waiting in the channel', async () => {
    const pacer = new ChannelPacer({ maxEdits: 1, windowMs: 1000 });
    const [a, b, c, d] = ['a', 'b', 'c', 'd'].map(() => setup({ pacer }));
    a!.editor.update(running(1));
    await vi.advanceTimersByTimeAsync(GRANT_MS);
    expect(a!.transport.calls).toHaveLength(1);
    d!.editor.update(queued(3, 'd'));
    b!.editor.update(running(1));
    const finished = c!.editor.finish(done('c'));
    // One slot per second, each taken a few bottleneck timer hops after the previous one frees.
    await advanceTo(start() + 1000 + 10 * GRANT_MS);
    expect(c!.transport.calls).toHaveLength(1);
    expect(b!.transport.calls).toHaveLength(0);
    await expect(finished).resolves.toEqual({ delivered: true, via: 'edit' });
    await advanceTo(start() + 2000 + 10 * GRANT_MS);
    expect(b!.transport.calls).toHaveLength(1);
    expect(d!.transport.calls).toHaveLength(0);
    await advanceTo(start() + 3000 + 10 * GRANT_MS);
    expect(d!.transport.calls).toHaveLength(1);
  });

  it('promotes its own waiting progress edit when the job ends, and sends the final state in its place', async () => {
    const pacer = new ChannelPacer({ maxEdits: 1, windowMs: 1000 });
    const [first, waiting, card] = ['a', 'b', 'c'].map(() => setup({ pacer }));
    first!.editor.update(running(1));
    await vi.advanceTimersByTimeAsync(GRANT_MS);
    waiting!.editor.update(running(1));
    card!.editor.update(running(5));
    await vi.advanceTimersByTimeAsync(100);
    // The card's progress edit now waits behind the other card's; the job ends.
    const finished = card!.editor.finish(done());
    await advanceTo(start() + 1000 + 10 * GRANT_MS);
    expect(card!.transport.calls.map((call) => call.description)).toEqual([expect.stringContaining('✅')]);
    expect(waiting!.transport.calls).toHaveLength(0);
    await expect(finished).resolves.toMatchObject({ delivered: true });
    await advanceTo(start() + 2000 + 10 * GRANT_MS);
    expect(waiting!.transport.calls).toHaveLength(1);
  });

  it('sends the final state without waiting for the card’s edit spacing', async () => {
    const { transport, editor } = setup({ pacer: new ChannelPacer({ maxEdits: 100, windowMs: 1000 }) });
    editor.update(running(1, true));
    await vi.advanceTimersByTimeAsync(GRANT_MS);
    editor.update(running(2, true));
    await vi.advanceTimersByTimeAsync(100);
    void editor.finish(done());
    await vi.advanceTimersByTimeAsync(GRANT_MS);
    expect(transport.calls.map((call) => call.at - start())).toHaveLength(2);
    expect(transport.calls[1]!.at - transport.calls[0]!.at).toBeLessThan(200);
    expect(transport.calls[1]!.description).toContain('✅');
  });

  it('does not make interaction-token edits wait for the channel’s bot-token slots', async () => {
    const pacer = new ChannelPacer({ maxEdits: 1, windowMs: 5000 });
    const botToken = setup({ pacer });
    const interaction = setup({ pacer, editBucket: 'interaction' });
    botToken.editor.update(running(1));
    await vi.advanceTimersByTimeAsync(GRANT_MS);
    botToken.editor.update(running(2));
    interaction.editor.update(running(1));
    await vi.advanceTimersByTimeAsync(1000);
    expect(interaction.transport.calls).toHaveLength(1);
    expect(botToken.transport.calls).toHaveLength(1);
  });

  it('sends the edit that answers the interaction at once, outside the pacer; the next edits wait their turn', async () => {
    const pacer = new ChannelPacer();
    pacer.pause(10_000, 'interaction');
    const { transport, editor } = setup({ pacer, editBucket: 'interaction' });
    transport.answering = true;
    editor.update(view({ kind: 'queued', position: 1, of: 1, etaSeconds: null }));
    await vi.advanceTimersByTimeAsync(GRANT_MS);
    expect(transport.calls).toHaveLength(1);
    editor.update(running(1));
    await vi.advanceTimersByTimeAsync(5000);
    expect(transport.calls).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(5000 + GRANT_MS);
    expect(transport.calls).toHaveLength(2);
  });

  it('pauses only the bucket a 429 came from', async () => {
    const pacer = new ChannelPacer({ maxEdits: 4, windowMs: 1000 });
    const interaction = setup({ pacer, editBucket: 'interaction' });
    interaction.transport.failNext(rateLimit(3000));
    interaction.editor.update(running(1));
    await vi.advanceTimersByTimeAsync(GRANT_MS);
    const botToken = setup({ pacer });
    botToken.editor.update(running(1));
    const sibling = setup({ pacer, editBucket: 'interaction' });
    sibling.editor.update(running(1));
    await vi.advanceTimersByTimeAsync(100);
    expect(botToken.transport.calls).toHaveLength(1);
    expect(sibling.transport.calls).toHaveLength(0);
    await vi.advanceTimersByTimeAsync(3000);
    expect(sibling.transport.calls).toHaveLength(1);
  });
});

describe('CardEditor preparing at send time', () => {
  it('prepares only the update it sends, right before sending it', async () => {
    const { transport, editor } = setup({ pacer: new ChannelPacer({ maxEdits: 100, windowMs: 1000 }) });
    const prepared: number[] = [];
    const withFrame = (n: number) => async (): Promise<CardView> => {
      prepared.push(n);
      return running(n, true);
    };
    editor.update(running(1), withFrame(1));
    await vi.advanceTimersByTimeAsync(GRANT_MS);
    for (let n = 2; n <= 9; n += 1) editor.update(running(n), withFrame(n));
    await vi.advanceTimersByTimeAsync(1500);
    expect(prepared).toEqual([1, 9]);
    expect(transport.calls.map((call) => call.payload.files?.[0]?.attachment.toString())).toEqual(['p1', 'p9']);
    // A frame is about to be shown, so the card keeps the image spacing.
    expect(gaps(transport.calls)[0]).toBeGreaterThanOrEqual(1200);
  });

  it('sends the plain view when preparing fails, and skips it when it prepared to what Discord shows', async () => {
    const { transport, editor, events } = setup({ pacer: new ChannelPacer({ maxEdits: 100, windowMs: 1000 }) });
    editor.update(running(1), () => Promise.reject(new Error('sharp broke')));
    await vi.advanceTimersByTimeAsync(GRANT_MS);
    expect(transport.calls.map((call) => call.description)).toEqual([expect.stringContaining(' 1/100')]);
    editor.update(running(2), async () => running(1));
    await vi.advanceTimersByTimeAsync(1500);
    expect(transport.calls).toHaveLength(1);
    expect(events).toContainEqual({ type: 'deduplicated' });
  });
});

describe('CardEditor moving to a channel message', () => {
  it('posts in the channel before the interaction token expires, then edits that message', async () => {
    const transport = new FakeTransport();
    transport.expiresAt = start() + 15 * 60_000;
    const { editor, events } = setup({ transport });
    editor.update(running(1));
    await vi.advanceTimersByTimeAsync(12 * 60_000);
    editor.update(running(2));
    await vi.advanceTimersByTimeAsync(2000);
    expect(transport.calls.map((c) => c.via)).toEqual(['edit', 'edit']);
    await vi.advanceTimersByTimeAsync(60_000);
    editor.update(running(3));
    await vi.advanceTimersByTimeAsync(2000);
    editor.update(running(4));
    await vi.advanceTimersByTimeAsync(2000);
    expect(transport.calls.map((c) => c.via)).toEqual(['edit', 'edit', 'post', 'edit']);
    expect(transport.calls[2]?.at).toBeGreaterThanOrEqual(start() + 13 * 60_000);
    expect(events).toContainEqual({ type: 'moved', reason: 'token-expiry' });
  });

  it('moves at once when Discord refuses the token early (401 / 50027)', async () => {
    const { transport, editor } = setup();
    transport.expiresAt = start() + 15 * 60_000;
    transport.failNext(apiError(50027, 401, 'Invalid Webhook Token'));
    editor.update(running(1));
    // the refused text edit is posted again after the card's text spacing (2 s)
    await vi.advanceTimersByTimeAsync(2000 + 2 * GRANT_MS);
    expect(transport.calls.map((c) => [c.via, c.description.includes(' 1/100')])).toEqual([
      ['edit', true],
      ['post', true],
    ]);
    expect(editor.stats.moves['token-invalid']).toBe(1);
  });

  it('posts a new card when the old one was deleted (10008) and delivers the final there', async () => {
    const { transport, editor } = setup();
    editor.update(running(1));
    await vi.advanceTimersByTimeAsync(GRANT_MS);
    transport.failNext(apiError(10008, 404, 'Unknown Message'));
    const finished = editor.finish(done());
    await vi.advanceTimersByTimeAsync(5000);
    await expect(finished).resolves.toEqual({ delivered: true, via: 'post' });
    expect(transport.calls.map((c) => c.via)).toEqual(['edit', 'edit', 'post']);
    expect(editor.stats.moves['message-gone']).toBe(1);
  });

  it('stops and reports when the bot lacks permission (50013)', async () => {
    const { transport, editor, unreachable } = setup();
    transport.failNext(apiError(50013, 403, 'Missing Permissions'));
    editor.update(running(1));
    await vi.advanceTimersByTimeAsync(GRANT_MS);
    editor.update(running(2));
    await vi.advanceTimersByTimeAsync(5000);
    expect(transport.calls).toHaveLength(1);
    expect(unreachable).toEqual([expect.objectContaining({ reason: 'forbidden', message: expect.stringContaining('50013') })]);
    const outcome = await editor.finish(done());
    expect(outcome).toEqual({ delivered: false, reason: expect.stringContaining('Missing Permissions') });
    expect(transport.calls).toHaveLength(1);
  });

  it('reports when an ephemeral card outlives its token', async () => {
    const transport = new FakeTransport();
    transport.expiresAt = start() + 15 * 60_000;
    transport.canPost = false;
    const { editor, unreachable } = setup({ transport });
    await vi.advanceTimersByTimeAsync(14 * 60_000);
    const outcome = await Promise.all([editor.finish(done()), vi.advanceTimersByTimeAsync(GRANT_MS)]).then(([o]) => o);
    expect(outcome.delivered).toBe(false);
    expect(unreachable).toEqual([expect.objectContaining({ reason: 'token-expired', view: done() })]);
    expect(transport.calls).toHaveLength(0);
  });

  it('gives up when every new message disappears at once', async () => {
    const { transport, editor, unreachable } = setup();
    transport.failNext(...Array.from({ length: 10 }, () => apiError(10008, 404, 'Unknown Message')));
    const finished = editor.finish(done());
    await vi.advanceTimersByTimeAsync(60_000);
    expect((await finished).delivered).toBe(false);
    expect(unreachable[0]?.reason).toBe('failed');
    expect(transport.calls.length).toBeLessThanOrEqual(5);
  });
});

describe('ChannelPacer', () => {
  it('refuses nonsense limits', () => {
    expect(() => new ChannelPacer({ maxEdits: 0 })).toThrow(/maxEdits/);
    expect(() => new ChannelPacer({ windowMs: -1 })).toThrow(/windowMs/);
  });

  it('gives each channel its own pacer, and the same one every time', () => {
    const pacers = new ChannelPacers({ maxEdits: 2 });
    expect(pacers.for('c1')).toBe(pacers.for('c1'));
    expect(pacers.for('c1')).not.toBe(pacers.for('c2'));
    expect(pacers.for(null).maxEdits).toBe(2);
  });

  it('holds every caller during a pause', async () => {
    const pacer = new ChannelPacer();
    pacer.pause(2000);
    let granted = false;
    void pacer.acquire().then(() => {
      granted = true;
    });
    await vi.advanceTimersByTimeAsync(1999);
    expect(granted).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    expect(granted).toBe(true);
  });
});
