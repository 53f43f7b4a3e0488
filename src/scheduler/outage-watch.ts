// Outages as members see them. A job whose ComfyUI server stopped answering says so once the server has been down
// `noticeAfterMs` (a WebSocket blip that reconnects at once shows nothing), until the server is back or the job
// moves on. A queued job that every server able to run it is down for waits, saying so, at most `waitForBackendMs`
// and is then failed with that reason. The scheduler calls `refresh` after each dispatch pass; the timers are here.
// A wait that began before this process took the job (a restart, a failover: the store keeps its start) goes on
// from that start while every server able to run the job has stayed down since, so the deadline does not restart.
import type { Job, JobControl, JobWait } from '../jobs/job.js';
import type { Backend } from './backend.js';
import type { Clock, TimerHandle } from './clock.js';

/** The parts of a scheduled job the watch reads. */
export interface Watched {
  readonly job: Job;
  readonly control: JobControl;
  /** The backend holding the job's slot (dispatched or running); null while it waits in the queue. */
  readonly backend: Backend | null;
}

export interface OutageWatchOptions<E extends Watched> {
  clock: Clock;
  backends: readonly Backend[];
  noticeAfterMs: number;
  waitForBackendMs: number;
  /** Whether the backend can run the queued job, or might (its inventory not read yet). */
  mightRun(entry: E, backend: Backend): boolean;
  /** A backend has now been down `noticeAfterMs`: its jobs' waits are due (refresh). */
  changed(): void;
  /** The job waited `waitForBackendMs` with every server able to run it down: fail it with `message`. */
  expired(entry: E, message: string): void;
}

/** "10 minutes", "1 minute", "90 s". */
function describeMs(ms: number): string {
  const seconds = Math.round(ms / 1000);
  if (seconds % 60 !== 0) return `${seconds} s`;
  const minutes = seconds / 60;
  return `${minutes} minute${minutes === 1 ? '' : 's'}`;
}

function sameWait(a: JobWait | null, b: JobWait | null): boolean {
  if (a === null || b === null) return a === b;
  if (a.reason === 'backend-unreachable') return b.reason === 'backend-unreachable' && a.backend === b.backend && a.since === b.since;
  return b.reason === 'no-backend' && a.since === b.since && a.until === b.until;
}

export class OutageWatch<E extends Watched> {
  /** Unhealthy backends → since when (their start when the watch began, for those not up yet). */
  private readonly downSince = new Map<Backend, number>();
  /** Backends down for `noticeAfterMs` or more: their jobs say so. */
  private readonly out = new Set<Backend>();
  private readonly noticeTimers = new Map<Backend, TimerHandle>();
  /** Jobs showing a wait → the deadline timer of a queued job's wait (null for a held job's). */
  private readonly waiting = new Map<E, TimerHandle | null>();
  /** Backends down since the watch began, never seen up by this process: an earlier wait may have gone on. */
  private readonly downFromStart = new Set<Backend>();
  /** Restored jobs → when their wait for a backend began before this process took them (see `carry`). */
  private readonly carried = new WeakMap<E, number>();

  constructor(private readonly options: OutageWatchOptions<E>) {
    for (const b of options.backends) {
      if (b.healthy) continue;
      this.healthChanged(b, false);
      this.downFromStart.add(b);
    }
  }

  /**
   * A restored queued job that was waiting for a backend since `since` (epoch ms, from the store): its wait goes
   * on from then, not from the restart, as long as no backend able to run it has been up since this watch began.
   */
  carry(entry: E, since: number): void {
    this.carried.set(entry, since);
  }

  /** Call on every health event of a backend, before the dispatch pass it causes. */
  healthChanged(backend: Backend, healthy: boolean): void {
    const { clock } = this.options;
    if (healthy) {
      this.downFromStart.delete(backend);
      const timer = this.noticeTimers.get(backend);
      if (timer) clock.clearTimeout(timer);
      this.noticeTimers.delete(backend);
      this.downSince.delete(backend);
      this.out.delete(backend);
      return;
    }
    if (this.downSince.has(backend)) return;
    this.downSince.set(backend, clock.now());
    this.noticeTimers.set(
      backend,
      clock.setTimeout(() => {
        this.noticeTimers.delete(backend);
        this.out.add(backend);
        this.options.changed();
      }, this.options.noticeAfterMs),
    );
  }

  /** Brings every live job's wait up to date (told to its listeners when it changed). */
  refresh(entries: Iterable<E>): void {
    // The common case, no outage anywhere, costs nothing per job.
    if (this.out.size === 0 && this.waiting.size === 0) return;
    for (const e of [...this.waiting.keys()]) if (e.job.final) this.forget(e);
    if (this.out.size === 0) {
      for (const e of [...this.waiting.keys()]) this.show(e, null);
      return;
    }
    for (const e of entries) this.show(e, this.waitOf(e));
  }

  stop(): void {
    const { clock } = this.options;
    for (const timer of this.noticeTimers.values()) clock.clearTimeout(timer);
    this.noticeTimers.clear();
    for (const e of [...this.waiting.keys()]) this.forget(e);
  }

  private waitOf(e: E): JobWait | null {
    if (e.job.final) return null;
    if (e.backend) {
      return this.out.has(e.backend) ? { reason: 'backend-unreachable', backend: e.backend.name, since: this.downSince.get(e.backend)! } : null;
    }
    const able = this.options.backends.filter((b) => this.options.mightRun(e, b));
    // No backend at all can run it: that is the scheduler's refusal (failIfNowhere), not an outage.
    if (able.length === 0 || !able.every((b) => this.out.has(b))) return null;
    // Counted from when the last of them went down, or from the job's creation if it came later: a job that waited
    // its turn before the outage gets the whole wait, one submitted during it no more than that.
    const counted = Math.max(e.job.createdAt, ...able.map((b) => this.downSince.get(b)!));
    const carried = this.carried.get(e);
    const since = carried !== undefined && able.every((b) => this.downFromStart.has(b)) ? Math.min(carried, counted) : counted;
    return { reason: 'no-backend', since, until: since + this.options.waitForBackendMs };
  }

  private show(e: E, wait: JobWait | null): void {
    if (sameWait(e.job.wait, wait)) return;
    this.forget(e);
    if (wait !== null) this.waiting.set(e, wait.reason === 'no-backend' ? this.armDeadline(e, wait.until) : null);
    e.control.setWait(wait);
  }

  private armDeadline(e: E, until: number): TimerHandle {
    const { clock, waitForBackendMs } = this.options;
    return clock.setTimeout(
      () => {
        this.waiting.delete(e);
        if (e.job.state !== 'queued' || e.job.wait?.reason !== 'no-backend') return;
        this.options.expired(e, `all backends are down: no ComfyUI server able to run it came back within ${describeMs(waitForBackendMs)}`);
      },
      Math.max(0, until - clock.now()),
    );
  }

  private forget(e: E): void {
    const timer = this.waiting.get(e);
    if (timer) this.options.clock.clearTimeout(timer);
    this.waiting.delete(e);
  }
}
