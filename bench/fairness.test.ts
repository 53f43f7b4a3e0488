import { describe, expect, it } from 'vitest';
import { equalDemandFairness, heavyJobsAheadOfLight, scalePlan, type JobRecord, type PlannedJob } from './fairness.js';

function record(planned: PlannedJob, r: Partial<JobRecord>): JobRecord {
  return { ...planned, submittedAt: 0, dispatchedBeforeSubmit: 0, dispatchIndex: null, finishedAt: null, state: 'succeeded', ...r };
}

describe('the scale plan', () => {
  it('queues each heavy backlog, then each equal user back to back, and keeps light users for later', () => {
    const { initial, late } = scalePlan({ equalUsers: 2, equalJobs: 2, heavyUsers: 1, heavyJobs: 3, lightUsers: 2 });
    expect(initial.map((j) => j.userId)).toEqual(['heavy-0', 'heavy-0', 'heavy-0', 'equal-0', 'equal-0', 'equal-1', 'equal-1']);
    expect(late).toEqual([{ userId: 'light-0', group: 'light' }, { userId: 'light-1', group: 'light' }]);
  });

  it('refuses counts that are not whole numbers', () => {
    expect(() => scalePlan({ equalUsers: 2.5, equalJobs: 1, heavyUsers: 0, heavyJobs: 0, lightUsers: 0 })).toThrow('scale plan: equalUsers must be a whole number >= 0, got 2.5');
  });
});

describe('fairness figures', () => {
  const equal = (u: number): PlannedJob => ({ userId: `equal-${u}`, group: 'equal' });

  it('gives 1 when equal users are served at the same rate and less when the first is served first', () => {
    const fair = [record(equal(0), { finishedAt: 10 }), record(equal(1), { finishedAt: 10 })];
    expect(equalDemandFairness(fair)).toBe(1);
    const fifo = [record(equal(0), { finishedAt: 1 }), record(equal(1), { finishedAt: 10 })];
    expect(equalDemandFairness(fifo)).toBeLessThan(0.7);
  });

  it('refuses to judge fairness over a job that never finished', () => {
    expect(() => equalDemandFairness([record(equal(0), { finishedAt: null })])).toThrow('job of equal-0 never finished');
  });

  it('counts the jobs one heavy user got dispatched while a light job waited', () => {
    const heavy = (u: number): PlannedJob => ({ userId: `heavy-${u}`, group: 'heavy' });
    const light: PlannedJob = { userId: 'light-0', group: 'light' };
    const records = [
      record(heavy(0), { dispatchIndex: 0 }),
      record(heavy(0), { dispatchIndex: 1 }),
      record(heavy(1), { dispatchIndex: 2 }),
      record(heavy(0), { dispatchIndex: 3 }),
      record(light, { dispatchedBeforeSubmit: 1, dispatchIndex: 4 }),
    ];
    expect(heavyJobsAheadOfLight(records)).toBe(2);
    expect(heavyJobsAheadOfLight(records.map((r) => (r.group === 'light' ? { ...r, dispatchedBeforeSubmit: 3 } : r)))).toBe(1);
    expect(() => heavyJobsAheadOfLight([record(light, {})])).toThrow('the job of light-0 was never dispatched');
  });
});
