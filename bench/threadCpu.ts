// CPU time of the main thread alone, which is what a member's prompt costs everyone else: unlike wall time it
// does not grow when a loaded machine deschedules the thread, and unlike process.cpuUsage it leaves out the
// worker threads (the pattern worker, V8's concurrent GC helpers). Node 20 has no per-thread clock, so it is the
// process's CPU (getrusage, exact) minus every other thread's (Linux /proc/self/task/<tid>/schedstat, exact for
// a thread that is asleep, as the workers are between checks). Where /proc is missing, `available` is false.
import { readdirSync, readFileSync } from 'node:fs';

const TASKS = '/proc/self/task';

/** Nanoseconds of CPU every thread but the main one has used so far (tids of threads that ended are gone). */
function otherThreadsNs(): Map<string, number> {
  const used = new Map<string, number>();
  for (const tid of readdirSync(TASKS)) {
    if (tid === String(process.pid)) continue;
    try {
      used.set(tid, Number(readFileSync(`${TASKS}/${tid}/schedstat`, 'utf8').split(' ')[0]));
    } catch {
      // the thread ended between the listing and the read: it ran nothing inside the window we measure
    }
  }
  return used;
}

function processUs(): number {
  const { user, system } = process.cpuUsage();
  return user + system;
}

export const available: boolean = (() => {
  try {
    readFileSync(`${TASKS}/${process.pid}/schedstat`, 'utf8');
    return true;
  } catch {
    return false;
  }
})();

/** Starts a measurement; the function it returns gives the main thread's CPU milliseconds since. */
export function mainThreadCpu(): () => number {
  const othersBefore = otherThreadsNs();
  const before = processUs();
  return () => {
    const total = (processUs() - before) / 1000;
    let others = 0;
    for (const [tid, ns] of otherThreadsNs()) others += (ns - (othersBefore.get(tid) ?? 0)) / 1e6;
    return Math.max(0, total - others);
  };
}
