// The leader publishes what only it knows (leader-view.ts) for the standbys' /queue and /comfy status: when it
// changed, at most once a tick (a second), and again every few seconds when nothing changed, so a standby can
// tell a quiet queue from a dead leader by the view's age. Fenced like every leader write: a deposed leader's
// view is refused.
import type { Logger } from '../config/logger.js';
import type { JobStore, LeaderView } from '../jobs/store.js';
import { leaderViewOf, type QueueSource } from './job-views.js';

/** A tick; the view is written at most this often. */
export const PUBLISH_TICK_MS = 1_000;
/** An unchanged view is written again this often, so its age says whether a leader is publishing. */
export const REPUBLISH_MS = 2_000;

/** What decides whether a view is news: estimates to the second (they shift by milliseconds on every pass). */
function keyOf(view: LeaderView): string {
  return JSON.stringify({ ...view, waiting: view.waiting.map((w) => ({ ...w, etaAt: w.etaAt === null ? null : Math.round(w.etaAt / 1000) })) });
}

export class ViewPublisher {
  private lastKey: string | null = null;
  private lastAt = -Infinity;

  constructor(
    private readonly deps: {
      source: QueueSource;
      store: Pick<JobStore, 'publishView'>;
      now: () => number;
      logger: Logger;
    },
  ) {}

  /** Publishes the view if it changed, or if the last one is getting old; true when it wrote. */
  tick(): boolean {
    const view = leaderViewOf(this.deps.source.snapshot());
    const key = keyOf(view);
    const now = this.deps.now();
    if (key === this.lastKey && now - this.lastAt < REPUBLISH_MS) return false;
    try {
      this.deps.store.publishView(view);
    } catch (error) {
      // Fenced (deposed: the keeper ends this process) or the database away: the next tick tries again.
      this.deps.logger.warn({ err: error }, "could not publish the leader's view of the queue");
      return false;
    }
    this.lastKey = key;
    this.lastAt = now;
    return true;
  }

  /** Ticks every PUBLISH_TICK_MS from now (the first at once); returns the stop. */
  start(): () => void {
    this.tick();
    const timer = setInterval(() => this.tick(), PUBLISH_TICK_MS);
    timer.unref();
    return () => clearInterval(timer);
  }
}
