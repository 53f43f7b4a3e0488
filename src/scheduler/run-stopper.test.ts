import { describe, expect, it } from 'vitest';
import { silentLogger } from '../config/logger.js';
import type { Job } from '../jobs/job.js';
import type { BackendRun } from './backend.js';
import { BackendDouble, type ScriptedRun } from '../../test/scheduler/backend-double.js';
import { ManualClock } from '../../test/scheduler/manual-clock.js';
import { spec } from '../../test/scheduler/helpers.js';
import { RunStopper, type StopEnding, type Stoppable } from './run-stopper.js';

const settled = () => new Promise<void>((resolve) => setImmediate(resolve));

/** Submits prompt p1 to the backend and returns its scripted run. */
async function submitted(gpu: BackendDouble): Promise<ScriptedRun> {
  await gpu.run(spec('a'), 'p1');
  return gpu.runs.at(-1)!;
}

/** A stopper with a 120 s limit (30 s grace) and one entry on a scripted backend, its run not attached yet. */
function setup() {
  const clock = new ManualClock();
  const gpu = new BackendDouble('gpu1');
  const ended: StopEnding[] = [];
  const stopper = new RunStopper<Stoppable>({ clock, logger: silentLogger, timeoutSeconds: 120, ended: (_e, ending) => ended.push(ending) });
  const entry: Stoppable & { run: BackendRun | null } = { job: { id: 'j1', backend: 'gpu1', promptId: 'p1' } as Job, backend: gpu, run: null, stop: null, timer: null };
  return { clock, gpu, stopper, entry, ended };
}

describe('RunStopper', () => {
  it('asks for a stop when the time limit passes, counting time already spent before an adoption', async () => {
    const { clock, gpu, stopper, entry, ended } = setup();
    const run = await submitted(gpu);
    entry.run = run;
    run.start();
    stopper.armTimeLimit(entry, clock.now() - 100_000);
    clock.advance(19_999);
    expect(entry.stop).toBeNull();
    clock.advance(1);
    expect(entry.stop).toBe('timeout');
    expect(gpu.cancels).toEqual(['p1']);
    expect(stopper.endingOf(entry)).toEqual({ type: 'failed', message: 'took longer than 120 s and was stopped' });
    expect(ended).toEqual([]);
  });

  it('asks once, and ends the job without its run after the grace period', async () => {
    const { clock, gpu, stopper, entry, ended } = setup();
    gpu.cancel = async (promptId) => {
      gpu.cancels.push(promptId);
      return 'interrupted';
    };
    const run = await submitted(gpu);
    entry.run = run;
    run.start();
    stopper.request(entry, 'cancel');
    stopper.request(entry, 'timeout');
    await settled();
    expect(gpu.cancels).toEqual(['p1']);
    clock.advance(29_999);
    expect(ended).toEqual([]);
    clock.advance(1);
    expect(ended).toEqual([{ type: 'cancelled' }]);
  });

  it('sends a stop asked for before the submit returned to the run once it is attached; a dequeued run ends at once', async () => {
    const { gpu, stopper, entry, ended } = setup();
    stopper.request(entry, 'timeout');
    expect(gpu.cancels).toEqual([]);
    const run = await submitted(gpu);
    entry.run = run;
    stopper.runAttached(entry, run);
    await settled();
    expect(gpu.cancels).toEqual(['p1']);
    expect(ended).toEqual([{ type: 'failed', message: 'took longer than 120 s and was stopped' }]);
  });

  it('forgets its timer when cleared, and names no ending when no stop was asked for', () => {
    const { clock, stopper, entry, ended } = setup();
    stopper.armTimeLimit(entry, clock.now());
    stopper.clear(entry);
    clock.advance(600_000);
    expect(entry.stop).toBeNull();
    expect(stopper.endingOf(entry)).toBeNull();
    expect(ended).toEqual([]);
  });
});
