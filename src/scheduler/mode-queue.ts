// The waiting room in two tiers: fast jobs, fair among themselves (fair-queue.ts), and relax jobs, fair among
// themselves, behind them. A relax job is taken only when no fast job that could start now waits, and not before
// its `notBefore` (relax.ts); it is woken by a timer then. So a fast job that arrives finds at most the relax jobs
// already running in its way: one per backend slot.
import type { JobMode } from '../jobs/job.js';
import type { Clock, TimerHandle } from './clock.js';
import { FairQueue, type QueueItem, type UsageLookup } from './fair-queue.js';

export interface ModeItem extends QueueItem {
  mode: JobMode;
  /** Epoch ms before which a relax job may not start (0 for a fast job). */
  notBefore: number;
}

export class ModeQueue<T extends ModeItem> {
  private readonly fast: FairQueue<T>;
  private readonly relax: FairQueue<T>;
  /** Relax jobs waiting for their `notBefore`, which the wake-up timer is set for. */
  private readonly resting = new Set<T>();
  private wake: { at: number; timer: TimerHandle } | null = null;

  /** `usage`: fair share by GPU time (absent: round-robin by turns). `ready`: a resting relax job may start now. */
  constructor(
    usage: UsageLookup | undefined,
    private readonly clock: Clock,
    private readonly ready: () => void,
  ) {
    this.fast = new FairQueue<T>(usage);
    this.relax = new FairQueue<T>(usage);
  }

  get size(): number {
    return this.fast.size + this.relax.size;
  }

  push(item: T): void {
    this.tier(item).push(item);
    if (item.mode === 'relax' && item.notBefore > this.clock.now()) {
      this.resting.add(item);
      this.arm();
    }
  }

  /** Ahead of everyone of its tier (a job whose backend was lost keeps its turn; a relax one stays behind fast jobs). */
  pushFront(item: T): void {
    this.tier(item).pushFront(item);
  }

  remove(id: string): T | undefined {
    const item = this.fast.remove(id) ?? this.relax.remove(id);
    if (item) this.resting.delete(item);
    return item;
  }

  /** The next job `eligible` accepts: a fast one if any, else a relax one whose time has come. */
  take(eligible: (item: T) => boolean = () => true): T | undefined {
    const fast = this.fast.take(eligible);
    if (fast) return fast;
    const now = this.clock.now();
    const relax = this.relax.take((item) => item.notBefore <= now && eligible(item));
    if (relax) this.resting.delete(relax);
    return relax;
  }

  /** The predicted dispatch order: every fast job, then every relax job. */
  order(): T[] {
    return [...this.fast.order(), ...this.relax.order()];
  }

  close(): void {
    if (this.wake) this.clock.clearTimeout(this.wake.timer);
    this.wake = null;
  }

  /** Sets the timer for the earliest resting job (forgetting those whose time has come). */
  private arm(): void {
    const now = this.clock.now();
    let earliest = Infinity;
    for (const item of this.resting) {
      if (item.notBefore <= now) this.resting.delete(item);
      else earliest = Math.min(earliest, item.notBefore);
    }
    if (this.wake && this.wake.at <= earliest) return;
    this.close();
    if (earliest === Infinity) return;
    this.wake = {
      at: earliest,
      timer: this.clock.setTimeout(() => {
        this.wake = null;
        this.arm();
        this.ready();
      }, earliest - now),
    };
  }

  private tier(item: T): FairQueue<T> {
    return item.mode === 'relax' ? this.relax : this.fast;
  }
}
