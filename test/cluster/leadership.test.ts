// The leader carrying out cancel requests recorded in jobs' rows, with a real scheduler on a scripted backend: in
// start-up recovery (a queued job leaves unrun, an adopted run is interrupted), on a wake, and on the periodic
// sweep when the wake was missed. The store, the lease and the wake channel are stand-ins: their own tests are
// test/store/* and the cluster e2e.
import { EventEmitter } from 'node:events';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { startLeadership } from '../../src/cluster/leadership.js';
import { cancelWake, jobWake } from '../../src/cluster/wakes.js';
import { silentLogger } from '../../src/config/logger.js';
import type { Job } from '../../src/jobs/job.js';
import type { CancelRequest, JobRow } from '../../src/jobs/store-types.js';
import type { Scheduler } from '../../src/scheduler/scheduler.js';
import { setup, spec } from '../scheduler/helpers.js';

const TTL = 300;

/** The part of a row leadership and this recovery stand-in read. */
type Row = Pick<JobRow, 'id' | 'state' | 'ownerId' | 'backend' | 'promptId' | 'cancelRequest'>;

function harness() {
  const { scheduler, gpu, clock } = setup();
  const rows = new Map<string, Row>();
  const keeper = Object.assign(new EventEmitter(), { role: 'leader' as const, ttlMs: TTL, start: vi.fn(), stop: vi.fn() });
  let wake: (payload: string) => void = () => undefined;
  const noted: [string, string][] = [];
  const logger = silentLogger.child({});
  const warn = vi.spyOn(logger, 'warn');
  const leading = new Promise<void>((resolve) => keeper.once('led', resolve));
  /** Recovery as main.ts wires it, reduced to what matters here: adopted while dispatch is held. */
  const recover = (options: { only?: (row: JobRow) => boolean; adopted: (job: Job, row: JobRow) => void }) => {
    const picked = [...rows.values()].filter((r) => ['queued', 'dispatched', 'running'].includes(r.state) && (options.only?.(r as JobRow) ?? true));
    scheduler.holdDispatch();
    try {
      const jobs = scheduler.restore({
        queued: picked.filter((r) => r.state === 'queued').map((r) => spec(r.ownerId, { id: r.id })),
        inFlight: picked
          .filter((r) => r.state !== 'queued')
          .map((r) => ({ spec: spec(r.ownerId, { id: r.id }), backend: r.backend!, promptId: r.promptId, attempt: 1, dispatchedAt: clock.now(), startedAt: null })),
      });
      for (const job of jobs) {
        job.on('state', (s) => (rows.get(job.id)!.state = s.state));
        options.adopted(job, rows.get(job.id)! as JobRow);
      }
    } finally {
      scheduler.releaseDispatch();
    }
    keeper.emit('led');
  };
  const stop = startLeadership({
    keeper: keeper as never,
    databaseUrl: 'postgres://unused',
    store: {
      get: (id) => (rows.get(id) as JobRow | undefined) ?? null,
      cancelRequested: () => [...rows.values()].filter((r) => r.cancelRequest !== null && !['succeeded', 'failed', 'cancelled'].includes(r.state)) as JobRow[],
    },
    scheduler: scheduler as Scheduler,
    startBackends: async () => undefined,
    recover,
    startDeliveries: () => undefined,
    noteCancel: (jobId, userId) => void noted.push([jobId, userId]),
    syncHolds: () => undefined,
    publishView: () => () => undefined,
    logger,
    listen: async (_url, onWake) => {
      wake = onWake;
      return { close: async () => undefined };
    },
  });
  const row = (id: string, extra: Partial<Row> = {}): Row => {
    const r: Row = { id, state: 'queued', ownerId: 'ann', backend: null, promptId: `p-${id}`, cancelRequest: null, ...extra };
    rows.set(id, r);
    return r;
  };
  const ask = (userId: string, isModerator = false): CancelRequest => ({ userId, isModerator, at: clock.now() });
  return {
    scheduler,
    gpu,
    rows,
    row,
    ask,
    noted,
    warnings: () => warn.mock.calls.map((call) => call[0]),
    wake: (payload: string) => wake(payload),
    lead: async () => {
      keeper.emit('gained');
      await leading;
    },
    stop,
  };
}

let stops: (() => Promise<void>)[] = [];
beforeEach(() => vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] }));
afterEach(async () => {
  for (const stop of stops) await stop();
  stops = [];
  vi.useRealTimers();
});

describe('a new leader', () => {
  it('cancels a queued job that carries a request instead of running it, and runs the others', async () => {
    const h = harness();
    stops.push(h.stop);
    h.row('asked', { cancelRequest: h.ask('mod-1', true) });
    h.row('other', { ownerId: 'bob' });
    await h.lead();
    expect(h.rows.get('asked')!.state).toBe('cancelled');
    expect(h.noted).toEqual([['asked', 'mod-1']]);
    const run = await h.gpu.running(0);
    expect(run.spec.id).toBe('other');
    expect(h.gpu.runs.map((r) => r.spec.id)).toEqual(['other']);
  });

  it('interrupts an adopted run that carries a request, as a normal cancel', async () => {
    const h = harness();
    stops.push(h.stop);
    h.row('running', { state: 'running', backend: 'gpu1', cancelRequest: h.ask('ann') });
    await h.lead();
    await vi.waitFor(() => expect(h.rows.get('running')!.state).toBe('cancelled'));
    expect(h.gpu.cancels).toEqual(['p-running']);
    expect(h.noted).toEqual([['running', 'ann']]);
  });

  it('leaves a job alone whose request the scheduler refuses (not the owner, not a moderator), and says so in the log', async () => {
    const h = harness();
    stops.push(h.stop);
    h.row('j', { cancelRequest: h.ask('mallory') });
    await h.lead();
    expect(h.rows.get('j')!.state).not.toBe('cancelled');
    await vi.waitFor(() => expect(h.warnings()).toContainEqual({ job: 'j', refusal: 'not-yours' }));
    // The request stays in the row; later sweeps do not ask (and log) again.
    vi.advanceTimersByTime(3 * TTL);
    expect(h.warnings()).toHaveLength(1);
    expect(h.noted).toEqual([['j', 'mallory']]);
  });
});

describe('the leader', () => {
  it('carries out a request on the wake: a job it runs is interrupted, one admitted a moment ago is cancelled unrun', async () => {
    const h = harness();
    stops.push(h.stop);
    h.row('running');
    await h.lead();
    const run = await h.gpu.running(0);
    run.start();
    h.rows.get('running')!.cancelRequest = h.ask('ann');
    h.wake(cancelWake('running'));
    await expect(h.scheduler.get('running')!.done).resolves.toBe('cancelled');
    // Admitted by a standby and cancelled before the leader adopted it: both wakes may come in either order.
    h.row('fresh', { cancelRequest: h.ask('ann') });
    h.wake(cancelWake('fresh'));
    expect(h.rows.get('fresh')!.state).toBe('cancelled');
    expect(h.gpu.runs.map((r) => r.spec.id)).toEqual(['running']);
    // The sweeps that follow find both requests again and leave them alone.
    vi.advanceTimersByTime(3 * TTL);
    expect(h.noted).toEqual([['running', 'ann'], ['fresh', 'ann']]);
  });

  it('finds a request whose wake was missed on its next sweep', async () => {
    const h = harness();
    stops.push(h.stop);
    h.row('held');
    await h.lead();
    h.row('queued-behind');
    h.wake(jobWake('queued-behind'));
    expect(h.scheduler.get('queued-behind')?.state).toBe('queued');
    h.rows.get('queued-behind')!.cancelRequest = h.ask('ann');
    // No wake: the NOTIFY was lost.
    expect(h.scheduler.get('queued-behind')?.state).toBe('queued');
    vi.advanceTimersByTime(TTL / 3);
    expect(h.rows.get('queued-behind')!.state).toBe('cancelled');
    expect(h.gpu.runs.map((r) => r.spec.id)).toEqual(['held']);
  });

  it('ignores a request for a job that ended meanwhile', async () => {
    const h = harness();
    stops.push(h.stop);
    await h.lead();
    h.row('gone', { state: 'succeeded', cancelRequest: h.ask('ann') });
    h.wake(cancelWake('gone'));
    h.wake(cancelWake('unknown'));
    vi.advanceTimersByTime(TTL);
    expect(h.noted).toEqual([]);
    expect(h.gpu.runs).toEqual([]);
  });
});
