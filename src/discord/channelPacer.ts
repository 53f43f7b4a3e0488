// Several job cards in one channel share Discord's per-channel message bucket (about 5 edits per 5 s observed).
// One pacer per channel hands out edit slots in arrival order so that, together, the cards stay under it.
//
// Bottleneck (the stack's limiter) does the queueing, FIFO and idle-channel cleanup, so none of that is hand-rolled.
// A reservoir refreshed every window would let 2 × maxEdits through around a refresh boundary, so instead each grant
// holds one of `maxEdits` concurrency slots for a full window: that is a true sliding window, bursts included.
import Bottleneck from 'bottleneck';

export interface ChannelPacerOptions {
  /** Edits allowed in any window of `windowMs`. */
  maxEdits?: number;
  windowMs?: number;
}

export interface ChannelPacersOptions extends ChannelPacerOptions {
  /** A channel with no grant for this long forgets its limiter (bottleneck Group `timeout`). Default 5 minutes. */
  idleMs?: number;
}

interface PacerLimits {
  maxEdits: number;
  windowMs: number;
}

function checkedLimits(options: ChannelPacerOptions): PacerLimits {
  const maxEdits = options.maxEdits ?? 4;
  const windowMs = options.windowMs ?? 5000;
  if (!Number.isInteger(maxEdits) || maxEdits < 1) throw new RangeError(`maxEdits must be a positive integer, got ${maxEdits}`);
  if (!(windowMs > 0) || !Number.isFinite(windowMs)) throw new RangeError(`windowMs must be a positive finite number, got ${windowMs}`);
  return { maxEdits, windowMs };
}

const limiterSettings = ({ maxEdits }: PacerLimits): Bottleneck.ConstructorOptions => ({ maxConcurrent: maxEdits });

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

export class ChannelPacer {
  readonly maxEdits: number;
  readonly windowMs: number;
  private pending = 0;
  private readonly limiter: () => Bottleneck;

  /** Without `limiter`, the pacer has its own; ChannelPacers passes a lookup into its bottleneck Group. */
  constructor(options: ChannelPacerOptions = {}, limiter?: () => Bottleneck) {
    const limits = checkedLimits(options);
    this.maxEdits = limits.maxEdits;
    this.windowMs = limits.windowMs;
    if (limiter) {
      this.limiter = limiter;
    } else {
      const own = new Bottleneck(limiterSettings(limits));
      this.limiter = () => own;
    }
  }

  /** Resolves when this caller may send one edit; callers are served first come, first served. */
  acquire(): Promise<void> {
    this.pending += 1;
    const limiter = this.limiter();
    return new Promise<void>((resolve, reject) => {
      limiter
        .schedule(async () => {
          await waitOutPause(limiter);
          this.pending -= 1;
          resolve();
          // Keep the slot for a whole window after the grant, so no window ever holds more than maxEdits grants.
          await delay(this.windowMs);
        })
        .catch((error: unknown) => {
          this.pending -= 1;
          reject(new Error(`channel pacer could not queue an edit: ${error instanceof Error ? error.message : String(error)}`, { cause: error }));
        });
    });
  }

  /** Discord said "slow down" for this channel: nobody gets a slot before `ms` from now. */
  pause(ms: number): void {
    if (!(ms >= 0) || !Number.isFinite(ms)) throw new RangeError(`pause must be a non-negative finite number of ms, got ${ms}`);
    const limiter = this.limiter();
    pausedUntil.set(limiter, Math.max(pausedUntil.get(limiter) ?? 0, Date.now() + ms));
  }

  /** Callers of this pacer object still waiting for a slot. */
  get waiting(): number {
    return this.pending;
  }
}

/** One pacer per channel id, created on first use (cards in DMs or threads get their own). */
export class ChannelPacers {
  private readonly group: Bottleneck.Group;
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
    this.group = new Bottleneck.Group({ ...limiterSettings(this.limits), timeout: idleMs });
  }

  for(channelId: string | null): ChannelPacer {
    const key = channelId ?? 'no-channel';
    const limiter = this.group.key(key);
    let pacer = this.pacers.get(limiter);
    if (!pacer) {
      // Looks the limiter up on every call: a card that outlives its channel's idle timeout joins the new limiter
      // instead of pacing against a forgotten one.
      pacer = new ChannelPacer(this.limits, () => this.group.key(key));
      this.pacers.set(limiter, pacer);
    }
    return pacer;
  }

  /** Channels that currently have a limiter; idle ones drop out after `idleMs`. */
  get size(): number {
    return this.group.keys().length;
  }
}
