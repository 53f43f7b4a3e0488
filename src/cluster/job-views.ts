// What /queue and /comfy status show of the jobs and the backends, from wherever this process learns it: its own
// scheduler (the only process, or the leader: first hand), or the store (a standby: the job rows, plus the view
// the leader published of what only it knows — places in line, estimates, run starts, backends' health). One
// renderer for both; this seam is the only place they differ.
import type { JobStore, LeaderView } from '../jobs/store.js';
import type { Scheduler } from '../scheduler/scheduler.js';

/** A view older than this is shown with its age (a leader republishes well within it, see view-publisher.ts). */
export const STALE_VIEW_MS = 5_000;

/** One unfinished job as the views show it. */
export interface LiveJobView {
  id: string;
  ownerId: string;
  guildId: string | null;
  command: string;
  state: 'queued' | 'running';
  /** A waiting job's place; null when not known (admitted after the leader's last view). */
  place: { global: number; etaAt: number | null; held: boolean } | null;
  /** When a running job started (else was sent to its backend); null when not known. */
  since: number | null;
}

export interface QueueSnapshot {
  /** Unfinished jobs, oldest first. */
  jobs: LiveJobView[];
  /** Backend name → up; a name absent is not known. */
  backendsUp: ReadonlyMap<string, boolean>;
  /** First hand, or the leader's view published at `publishedAt` (null: no leader has published one yet). */
  origin: { kind: 'local' } | { kind: 'leader'; publishedAt: number | null };
}

export interface QueueSource {
  snapshot(): QueueSnapshot;
}

/** This process's scheduler and backends. */
export function localQueue(
  scheduler: Pick<Scheduler, 'jobs' | 'positions'>,
  backends: readonly { name: string; readonly healthy: boolean }[],
  now: () => number = Date.now,
): QueueSource {
  return {
    snapshot() {
      const at = now();
      const positions = scheduler.positions();
      const jobs = scheduler.jobs().map((job): LiveJobView => {
        const base = { id: job.id, ownerId: job.owner.userId, guildId: job.owner.guildId, command: job.command };
        if (job.state === 'queued') {
          const p = positions.get(job.id);
          return { ...base, state: 'queued', place: p ? { global: p.global, etaAt: p.eta === null ? null : at + p.eta, held: p.held } : null, since: null };
        }
        return { ...base, state: 'running', place: null, since: job.data.startedAt ?? job.data.dispatchedAt };
      });
      return { jobs, backendsUp: new Map(backends.map((b) => [b.name, b.healthy])), origin: { kind: 'local' } };
    },
  };
}

/** The store's rows and the leader's published view (a standby). */
export function storeQueue(store: Pick<JobStore, 'unfinished' | 'publishedView'>): QueueSource {
  return {
    snapshot() {
      const published = store.publishedView();
      const view: LeaderView = published?.view ?? { waiting: [], running: [], backends: [] };
      const waiting = new Map(view.waiting.map((w) => [w.id, w]));
      const running = new Map(view.running.map((r) => [r.id, r.since]));
      const jobs = store
        .unfinished()
        .sort((a, b) => a.createdAt - b.createdAt)
        .map((row): LiveJobView => {
          const base = { id: row.id, ownerId: row.ownerId, guildId: row.guildId, command: row.command };
          if (row.state === 'queued') {
            const w = waiting.get(row.id);
            return { ...base, state: 'queued', place: w ? { global: w.global, etaAt: w.etaAt, held: w.held } : null, since: null };
          }
          return { ...base, state: 'running', place: null, since: running.get(row.id) ?? row.startedAt };
        });
      return {
        jobs,
        backendsUp: new Map(view.backends.map((b) => [b.name, b.up])),
        origin: { kind: 'leader', publishedAt: published?.publishedAt ?? null },
      };
    },
  };
}

/** The leader's own scheduler while this process leads, the store's view otherwise. */
export function leaderAwareQueue(local: QueueSource, standby: QueueSource, leading: () => boolean): QueueSource {
  return { snapshot: () => (leading() ? local : standby).snapshot() };
}

/** What the leader publishes: the first-hand snapshot less what the rows already say. */
export function leaderViewOf(snapshot: QueueSnapshot): LeaderView {
  const waiting: LeaderView['waiting'] = [];
  const running: LeaderView['running'] = [];
  for (const job of snapshot.jobs) {
    if (job.place) waiting.push({ id: job.id, ...job.place });
    if (job.state === 'running' && job.since !== null) running.push({ id: job.id, since: job.since });
  }
  return { waiting, running, backends: [...snapshot.backendsUp].map(([name, up]) => ({ name, up })) };
}

/**
 * How old a second-hand snapshot is, in ms, when old enough to say so (STALE_VIEW_MS); 'none' when no leader has
 * published a view yet; null when it is first hand or fresh.
 */
export function viewAge(origin: QueueSnapshot['origin'], now: number): number | 'none' | null {
  if (origin.kind === 'local') return null;
  if (origin.publishedAt === null) return 'none';
  const age = now - origin.publishedAt;
  return age > STALE_VIEW_MS ? age : null;
}
