// Leadership among the processes sharing one PostgreSQL store: each process tries to take the leader lease,
// the holder renews it every period (a third of its duration, at most a second), and a holder that fails to renew in time (the database
// unreachable, or another process took the lease: a FencedError or a refused renewal) is deposed at once. The
// lease row carries a fencing number, so even a holder that does not notice (paused, say) cannot write after a
// takeover: the store refuses its writes.
import { EventEmitter } from 'node:events';
import type { Logger } from '../config/logger.js';
import type { JobStore } from '../jobs/store.js';
import type { Lease, ProcessRow } from '../jobs/store-types.js';

export type Role = 'leader' | 'standby';

export interface LeaseKeeperOptions {
  store: Pick<JobStore, 'acquireLease' | 'renewLease' | 'releaseLease' | 'heartbeat'>;
  /** This process as the processes table shows it (its role and heartbeat are filled in on each tick). */
  process: Omit<ProcessRow, 'role' | 'heartbeatAt'>;
  ttlMs: number;
  logger: Logger;
  now?: () => number;
}

export interface LeaseKeeperEvents {
  /** This process took the lease: it is the leader from now on. */
  gained: [lease: Lease];
  /** This process lost the lease (or could not renew it in time): it must stop writing at once. */
  lost: [reason: string];
}

export class LeaseKeeper extends EventEmitter<LeaseKeeperEvents> {
  private lease: Lease | null = null;
  /** When the lease was last renewed (or taken), by this process's clock. */
  private renewedAt = 0;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private readonly now: () => number;
  /** How often the leader renews (and heartbeats) and a standby tries: a third of the lease, at most a second. */
  readonly periodMs: number;
  /**
   * What each take or renewal writes: the lease less one period, so that a standby, which tries once per period,
   * leads within the configured time of the leader's last renewal (and so of its death).
   */
  private readonly writtenMs: number;

  constructor(private readonly options: LeaseKeeperOptions) {
    super();
    this.now = options.now ?? Date.now;
    this.periodMs = Math.max(100, Math.min(Math.floor(options.ttlMs / 3), 1000));
    this.writtenMs = options.ttlMs - this.periodMs;
  }

  get ttlMs(): number {
    return this.options.ttlMs;
  }

  get role(): Role {
    return this.lease ? 'leader' : 'standby';
  }

  /** When this process became the leader (epoch ms), or null on a standby. */
  get leaderSince(): number | null {
    return this.lease?.acquiredAt ?? null;
  }

  /** Milliseconds since the lease was last renewed; null on a standby. */
  leaseAgeMs(): number | null {
    return this.lease ? this.now() - this.renewedAt : null;
  }

  /** Tries at once, then every period. */
  start(): void {
    this.tick();
    this.timer = setInterval(() => this.tick(), this.periodMs);
  }

  /** Stops contending; a leader gives the lease up so a standby takes over without waiting for it to expire. */
  stop(): void {
    this.stopped = true;
    clearInterval(this.timer);
    if (!this.lease) return;
    this.lease = null;
    try {
      this.options.store.releaseLease();
    } catch (error) {
      this.options.logger.warn({ err: error }, 'could not release the leader lease; it expires on its own');
    }
  }

  private tick(): void {
    if (this.stopped) return;
    const { store, logger } = this.options;
    const ttlMs = this.writtenMs;
    if (this.lease) {
      // Past its lease by this process's own clock (frozen, or the database slow): another may already lead.
      const late = this.now() - this.renewedAt > ttlMs;
      let renewed = false;
      let why = 'another process took the lease';
      try {
        renewed = !late && store.renewLease(ttlMs);
        if (late) why = `the lease was not renewed for ${this.now() - this.renewedAt} ms (lease ${ttlMs} ms)`;
      } catch (error) {
        why = `the lease could not be renewed: ${error instanceof Error ? error.message : String(error)}`;
      }
      if (!renewed) return this.depose(why);
      this.renewedAt = this.now();
    } else {
      try {
        const lease = store.acquireLease(this.options.process.id, ttlMs);
        if (lease) {
          this.lease = lease;
          this.renewedAt = this.now();
          logger.info({ fence: lease.fence, process: this.options.process.id }, 'leader lease taken: this process leads');
          this.emit('gained', lease);
        }
      } catch (error) {
        logger.warn({ err: error }, 'could not contend for the leader lease; trying again');
      }
    }
    this.beat();
  }

  private depose(reason: string): void {
    const fence = this.lease?.fence;
    this.lease = null;
    this.options.logger.error({ fence, reason }, 'leader lease lost: this process stops leading');
    this.beat();
    this.emit('lost', reason);
  }

  private beat(): void {
    try {
      this.options.store.heartbeat({ ...this.options.process, role: this.role, heartbeatAt: this.now() }, 3 * this.options.ttlMs);
    } catch (error) {
      this.options.logger.debug({ err: error }, 'could not record the heartbeat');
    }
  }
}
