// Several job cards in one channel share Discord's per-channel message bucket (about 5 edits per 5 s observed).
// One pacer per channel hands out edit slots in arrival order so that, together, the cards stay under it.

export interface ChannelPacerOptions {
  /** Edits allowed in any window of `windowMs`. */
  maxEdits?: number;
  windowMs?: number;
}

export class ChannelPacer {
  readonly maxEdits: number;
  readonly windowMs: number;
  private grants: number[] = [];
  private readonly waiters: Array<() => void> = [];
  private timer: NodeJS.Timeout | null = null;
  private pausedUntil = 0;

  constructor(options: ChannelPacerOptions = {}) {
    this.maxEdits = options.maxEdits ?? 4;
    this.windowMs = options.windowMs ?? 5000;
    if (!Number.isInteger(this.maxEdits) || this.maxEdits < 1) throw new RangeError(`maxEdits must be a positive integer, got ${this.maxEdits}`);
    if (!(this.windowMs > 0)) throw new RangeError(`windowMs must be positive, got ${this.windowMs}`);
  }

  /** Resolves when this caller may send one edit; callers are served first come, first served. */
  acquire(): Promise<void> {
    return new Promise((resolve) => {
      this.waiters.push(resolve);
      this.pump();
    });
  }

  /** Discord said "slow down" for this channel: nobody gets a slot before `ms` from now. */
  pause(ms: number): void {
    this.pausedUntil = Math.max(this.pausedUntil, Date.now() + ms);
    this.pump();
  }

  get waiting(): number {
    return this.waiters.length;
  }

  private pump(): void {
    const now = Date.now();
    this.grants = this.grants.filter((at) => now - at < this.windowMs);
    while (this.waiters.length > 0 && now >= this.pausedUntil && this.grants.length < this.maxEdits) {
      this.grants.push(now);
      this.waiters.shift()?.();
    }
    if (this.waiters.length === 0 || this.timer) return;
    const oldest = this.grants[0];
    const windowFreesAt = this.grants.length >= this.maxEdits && oldest !== undefined ? oldest + this.windowMs : now;
    const wait = Math.max(this.pausedUntil, windowFreesAt) - now;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.pump();
    }, Math.max(0, wait));
  }
}

/** One pacer per channel id, created on first use (cards in DMs or threads get their own). */
export class ChannelPacers {
  private readonly pacers = new Map<string, ChannelPacer>();
  constructor(private readonly options: ChannelPacerOptions = {}) {}

  for(channelId: string | null): ChannelPacer {
    const key = channelId ?? 'no-channel';
    let pacer = this.pacers.get(key);
    if (!pacer) {
      pacer = new ChannelPacer(this.options);
      this.pacers.set(key, pacer);
    }
    return pacer;
  }
}
