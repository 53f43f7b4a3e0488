// Several job cards in one channel share Discord's per-channel limits. One pacer per channel hands out edit slots
// so that, together, the cards stay under them, and decides who goes first when they are short.
//
// Bottleneck (the stack's limiter) does the queueing, priorities and idle-channel cleanup, so none of that is
// hand-rolled. A reservoir refreshed every window would let 2 × maxEdits through around a refresh boundary, so
// instead each grant holds one of `maxEdits` concurrency slots for a full window: a true sliding window, bursts
// included.
//
// Two buckets per channel (discord-notes §2, "Per-route buckets"):
// - 'channel': edits and posts made with the bot token on /channels/{id}/messages. Discord buckets these per channel
//   (about 5 per 5 s observed), so every card in the channel shares `maxEdits` per window (default 4, one spare).
// - 'interaction': edits of an interaction reply through /webhooks/{app}/{token}. Discord buckets those per
//   interaction token ("each interaction token is its own bucket, and each channel is another"), about 5 per 2 s,
//   and a card's own spacing (≥ 1 s between its edits) already keeps each token under it. Making them wait for the
//   channel's 4-per-5-s slots cost 5 s median / 15 s p95 for final edits in the bench, for a bucket they do not
//   draw from. Progress and queue updates still get a looser per-channel cap, `interactionMaxEdits` per window
//   (default 30 = six cards editing at ~1/s with headroom), because Discord also has an undocumented per-channel
//   write limit (code 20028) whose numbers nobody publishes: the cap stops a runaway stream, and a 429 there pauses
//   the channel's interaction bucket. A final edit through a token takes no slot of that cap: there is one per job,
//   so finals come no faster than jobs end, and in the bench queue updates filling the cap held finals ~0.4 s (p95).
//
// Urgency orders the waiting edits in both buckets: a final state (done, failed, cancelled) before progress of
// running cards, and progress before queue-position updates. An edit already granted keeps its slot; nothing is
// dropped here (the card editor coalesces).
import Bottleneck from 'bottleneck';

export type EditUrgency = 'final' | 'progress' | 'queued';
export type EditBucket = 'channel' | 'interaction';

/** Bottleneck priorities: 0 is served first. */
const PRIORITY: Record<EditUrgency, number> = { final: 0, progress: 4, queued: 8 };

export interface ChannelPacerOptions {
  /** Bot-token edits allowed in any window of `windowMs`, for all cards of the channel together. */
  maxEdits?: number;
  /** Interaction-token edits allowed in any window of `windowMs` for the channel (the loose cap, see above). */
  interactionMaxEdits?: number;
  windowMs?: number;
}

export interface ChannelPacersOptions extends ChannelPacerOptions {
  /** A channel with no grant for this long forgets its limiters (bottleneck Group `timeout`). Default 5 minutes. */
  idleMs?: number;
}

export interface EditRequest {
  urgency?: EditUrgency;
  bucket?: EditBucket;
}

/** One caller's place in a channel's queue. */
export interface EditTurn {
  /** Resolves when the caller may send one edit. Never settles after `cancel`. */
  readonly granted: Promise<void>;
  /** Moves the request ahead of less urgent ones (the card's newest state became more urgent). Never demotes. */
  promote(urgency: EditUrgency): void;
  /** Gives up a request not yet granted; it then spends no slot. No effect once granted. */
  cancel(): void;
}

interface PacerLimits {
  maxEdits: number;
  interactionMaxEdits: number;
  windowMs: number;
}

function positiveInteger(name: string, value: number): number {
  if (!Number.isInteger(value) || value < 1) throw new RangeError(`${name} must be a positive integer, got ${value}`);
  return value;
}

function checkedLimits(options: ChannelPacerOptions): PacerLimits {
  const maxEdits = positiveInteger('maxEdits', options.maxEdits ?? 4);
  const interactionMaxEdits = positiveInteger('interactionMaxEdits', options.interactionMaxEdits ?? 30);
  const windowMs = options.windowMs ?? 5000;
  if (!(windowMs > 0) || !Number.isFinite(windowMs)) throw new RangeError(`windowMs must be a positive finite number, got ${windowMs}`);
  return { maxEdits, interactionMaxEdits, windowMs };
}

const limiterSettings = (slots: number): Bottleneck.ConstructorOptions => ({ maxConcurrent: slots });
const slotsOf = (limits: PacerLimits, bucket: EditBucket): number => (bucket === 'channel' ? limits.maxEdits : limits.interactionMaxEdits);

// Keyed by limiter, not by pacer: every pacer object of a channel (even one created before the channel idled out and
// came back) must see the same 429 pause, and the entry goes away with the limiter.
const pausedUntil = new WeakMap<Bottleneck, number>();

// Unref'd: a held slot or a pause only matters to edits still waiting, which keep the process alive themselves;
// left ref'd, the last edit's window kept a stopping bot alive for up to windowMs.
const delay = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms).unref());

async function waitOutPause(limiter: Bottleneck): Promise<void> {
  // Re-read after every wait: a second 429 during the pause pushes the deadline further.
  for (let until = pausedUntil.get(limiter) ?? 0; Date.now() < until; until = pausedUntil.get(limiter) ?? 0) {
    await delay(until - Date.now());
  }
}

type LimiterOf = (bucket: EditBucket) => Bottleneck;

export class ChannelPacer {
  readonly maxEdits: number;
  readonly interactionMaxEdits: number;
  readonly windowMs: number;
  private pending = 0;
  private readonly limiter: LimiterOf;

  /** Without `limiter`, the pacer has its own; ChannelPacers passes a lookup into its bottleneck Groups. */
  constructor(options: ChannelPacerOptions = {}, limiter?: LimiterOf) {
    const limits = checkedLimits(options);
    this.maxEdits = limits.maxEdits;
    this.interactionMaxEdits = limits.interactionMaxEdits;
    this.windowMs = limits.windowMs;
    if (limiter) {
      this.limiter = limiter;
    } else {
      const own = { channel: new Bottleneck(limiterSettings(limits.maxEdits)), interaction: new Bottleneck(limiterSettings(limits.interactionMaxEdits)) };
      this.limiter = (bucket) => own[bucket];
    }
  }

  /** Resolves when this caller may send one edit; most urgent first, then first come, first served. */
  acquire(request: EditRequest = {}): Promise<void> {
    return this.request(request).granted;
  }

  /** Queues for a slot; the returned turn can be promoted (a final state arrived) or cancelled (the card closed). */
  request({ urgency = 'progress', bucket = 'channel' }: EditRequest = {}): EditTurn {
    let state: 'waiting' | 'granted' | 'cancelled' = 'waiting';
    let current = urgency;
    let grant!: () => void;
    let fail!: (error: Error) => void;
    const granted = new Promise<void>((resolve, reject) => {
      grant = resolve;
      fail = reject;
    });
    const leave = (next: 'granted' | 'cancelled'): void => {
      state = next;
      this.pending -= 1;
    };
    // A promotion queues a second entry for the same turn: whichever runs first grants it, and the other finds the
    // turn settled and returns at once, so it holds its slot for no time at all.
    const enqueue = (level: EditUrgency): void => {
      const limiter = this.limiter(bucket);
      if (bucket === 'interaction' && level === 'final') {
        void waitOutPause(limiter).then(() => {
          if (state !== 'waiting') return;
          leave('granted');
          grant();
        });
        return;
      }
      limiter
        .schedule({ priority: PRIORITY[level] }, async () => {
          if (state !== 'waiting') return;
          await waitOutPause(limiter);
          if (state !== 'waiting') return;
          leave('granted');
          grant();
          // Keep the slot for a whole window after the grant, so no window ever holds more than its limit.
          await delay(this.windowMs);
        })
        .catch((error: unknown) => {
          if (state !== 'waiting') return;
          leave('cancelled');
          fail(new Error(`channel pacer could not queue an edit: ${error instanceof Error ? error.message : String(error)}`, { cause: error }));
        });
    };
    this.pending += 1;
    enqueue(urgency);
    return {
      granted,
      promote: (level) => {
        if (state !== 'waiting' || PRIORITY[level] >= PRIORITY[current]) return;
        current = level;
        enqueue(level);
      },
      cancel: () => {
        if (state === 'waiting') leave('cancelled');
      },
    };
  }

  /** Discord said "slow down" for this channel's `bucket`: nobody there gets a slot before `ms` from now. */
  pause(ms: number, bucket: EditBucket = 'channel'): void {
    if (!(ms >= 0) || !Number.isFinite(ms)) throw new RangeError(`pause must be a non-negative finite number of ms, got ${ms}`);
    const limiter = this.limiter(bucket);
    pausedUntil.set(limiter, Math.max(pausedUntil.get(limiter) ?? 0, Date.now() + ms));
  }

  /** Callers of this pacer object still waiting for a slot. */
  get waiting(): number {
    return this.pending;
  }
}

/** One pacer per channel id, created on first use (cards in DMs or threads get their own). */
export class ChannelPacers {
  private readonly groups: Record<EditBucket, Bottleneck.Group>;
  private readonly limits: PacerLimits;
  private readonly pacers = new WeakMap<Bottleneck, ChannelPacer>();

  constructor(options: ChannelPacersOptions = {}) {
    this.limits = checkedLimits(options);
    const idleMs = options.idleMs ?? 5 * 60_000;
    // A channel with queued callers registers a grant at least every window (plus any pause), so an idle timeout
    // longer than the window never drops a limiter that still has callers waiting in it.
    if (!(idleMs > this.limits.windowMs) || !Number.isFinite(idleMs)) {
      throw new RangeError(`idleMs must be finite and longer than windowMs (${this.limits.windowMs}), got ${idleMs}`);
    }
    const group = (bucket: EditBucket) => new Bottleneck.Group({ ...limiterSettings(slotsOf(this.limits, bucket)), timeout: idleMs });
    this.groups = { channel: group('channel'), interaction: group('interaction') };
  }

  for(channelId: string | null): ChannelPacer {
    const key = channelId ?? 'no-channel';
    const limiter = this.groups.channel.key(key);
    let pacer = this.pacers.get(limiter);
    if (!pacer) {
      // Looks the limiter up on every call: a card that outlives its channel's idle timeout joins the new limiter
      // instead of pacing against a forgotten one.
      pacer = new ChannelPacer(this.limits, (bucket) => this.groups[bucket].key(key));
      this.pacers.set(limiter, pacer);
    }
    return pacer;
  }

  /** Channels that currently have a limiter; idle ones drop out after `idleMs`. */
  get size(): number {
    return new Set([...this.groups.channel.keys(), ...this.groups.interaction.keys()]).size;
  }
}
