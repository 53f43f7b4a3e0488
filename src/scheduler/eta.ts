// Run-time estimates: an exponential moving average of recent run times per command and backend, falling
// back to the command's average over all backends when a backend has not run that command yet.

const ALPHA = 0.3;

export class RunTimeAverages {
  private readonly byBackend = new Map<string, number>();
  private readonly byCommand = new Map<string, number>();

  record(command: string, backend: string, ms: number): void {
    update(this.byBackend, `${command}\u0000${backend}`, ms);
    update(this.byCommand, command, ms);
  }

  /** Expected run time in ms, or null when this command has never finished. */
  estimate(command: string, backend?: string): number | null {
    if (backend !== undefined) {
      const exact = this.byBackend.get(`${command}\u0000${backend}`);
      if (exact !== undefined) return exact;
    }
    return this.byCommand.get(command) ?? null;
  }
}

function update(map: Map<string, number>, key: string, ms: number): void {
  const prev = map.get(key);
  map.set(key, prev === undefined ? ms : prev + ALPHA * (ms - prev));
}

export interface EtaInput {
  /** Remaining ms of each job holding a slot among `slots` (null = unknown); not those on other backends. */
  running: (number | null)[];
  /** Estimated run time of each waiting job, in dispatch order. */
  waiting: (number | null)[];
  /** Slots of the backends that take new work (healthy, not paused or draining). */
  slots: number;
}

/**
 * For each waiting job, ms until it is expected to finish: slots are modelled as parallel lanes, each job
 * taking the lane that frees first. Unknown run times make that job's ETA and every later one unknown.
 */
export function queueEtas({ running, waiting, slots }: EtaInput): (number | null)[] {
  if (slots <= 0) return waiting.map(() => null);
  let unknown = running.some((r) => r === null);
  const lanes = Array.from({ length: slots }, () => 0);
  for (const r of [...running].sort((a, b) => (a ?? 0) - (b ?? 0))) {
    const i = lanes.indexOf(Math.min(...lanes));
    lanes[i] = lanes[i]! + Math.max(0, r ?? 0);
  }
  return waiting.map((w) => {
    if (w === null) unknown = true;
    if (unknown) return null;
    const i = lanes.indexOf(Math.min(...lanes));
    lanes[i] = lanes[i]! + w!;
    return lanes[i]!;
  });
}
