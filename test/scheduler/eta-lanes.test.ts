// ETAs while a backend is paused, draining or lost: a job still running there frees none of the slots that take
// new work, so it must not be packed into their lanes (which would show a 30 s wait as 40 s, or worse).
import { describe, expect, it } from 'vitest';
import { BackendDouble } from './backend-double.js';
import { setup, spec } from './helpers.js';

/**
 * gpu1 and gpu2 each run a `draw` (20 s on average) with 10 s left; w1 and w2 wait. With both backends the
 * waiting jobs finish in 30 s each; with only gpu2 taking work, in 30 s and 50 s.
 */
async function twoBusyBackends() {
  const gpu1 = new BackendDouble('gpu1');
  const gpu2 = new BackendDouble('gpu2');
  const ctx = setup({ backends: [gpu1, gpu2] });
  const { scheduler, clock } = ctx;
  const first = scheduler.submit(spec('a'));
  const calibrate = await gpu1.running(0);
  calibrate.start();
  clock.advance(20_000);
  calibrate.succeed();
  await first.done;

  scheduler.submit(spec('b'));
  scheduler.submit(spec('c'));
  const onGpu1 = await gpu1.running(1);
  const onGpu2 = await gpu2.running(0);
  onGpu1.start();
  onGpu2.start();
  clock.advance(10_000);
  const waiting = [scheduler.submit(spec('w1')), scheduler.submit(spec('w2'))];
  const etas = () => waiting.map((job) => scheduler.position(job.id)?.eta ?? null);
  return { ...ctx, gpu1, gpu2, etas };
}

describe('expected end of a running job', () => {
  it('is its start plus the command\'s average run time, and unknown while it waits', async () => {
    const { scheduler, clock } = await twoBusyBackends();
    const [onGpu1, onGpu2, w1] = scheduler.jobs();
    const started = clock.now() - 10_000;
    expect(scheduler.expectedEnd(onGpu1!.id)).toBe(started + 20_000);
    expect(scheduler.expectedEnd(onGpu2!.id)).toBe(started + 20_000);
    expect(scheduler.expectedEnd(w1!.id)).toBeNull();
    expect(scheduler.expectedEnd('no-such-job')).toBeNull();
  });
});

describe('ETAs across pause, drain and loss', () => {
  it('counts both backends while both take work', async () => {
    const { etas } = await twoBusyBackends();
    expect(etas()).toEqual([30_000, 30_000]);
  });

  it('leaves out the job running on a paused backend, and counts it again once resumed', async () => {
    const { scheduler, etas } = await twoBusyBackends();
    const published: (number | null)[] = [];
    scheduler.jobs().at(-1)!.on('position', (position) => published.push(position.eta));
    scheduler.pauseBackend('gpu1');
    expect(etas()).toEqual([30_000, 50_000]);
    expect(published).toEqual([50_000]);
    scheduler.resumeBackend('gpu1');
    expect(etas()).toEqual([30_000, 30_000]);
  });

  it('leaves out the job running on a draining backend', async () => {
    const { scheduler, etas } = await twoBusyBackends();
    void scheduler.drainBackend('gpu1');
    expect(etas()).toEqual([30_000, 50_000]);
  });

  it('leaves out the job running on a lost backend, and publishes the new ETA', async () => {
    const { scheduler, gpu1, etas } = await twoBusyBackends();
    const w2 = scheduler.jobs().at(-1)!;
    const published: (number | null)[] = [];
    w2.on('position', (position) => published.push(position.eta));
    gpu1.setHealthy(false);
    expect(etas()).toEqual([30_000, 50_000]);
    expect(published.at(-1)).toBe(50_000);
  });

  it('knows no ETA when no backend takes work', async () => {
    const { scheduler, etas } = await twoBusyBackends();
    scheduler.pauseBackend('gpu1');
    scheduler.pauseBackend('gpu2');
    expect(etas()).toEqual([null, null]);
  });
});
