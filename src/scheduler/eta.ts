// Run-time estimates: an exponential moving average of recent run times per unit of work, per command and
// backend, falling back to the command's average over all backends when a backend has not run that command yet.
// A unit of work is steps × pixels × batch (a first model of a diffusion job's cost): a 50-step 1024² job of a
// command is expected to take 10× a 20-step 512² one.

const ALPHA = 0.3;

/** Parameters read as the job's work: each is a positive number when present, else counts as 1. */
const WORK_FACTORS: readonly (readonly string[])[] = [['steps'], ['width'], ['height'], ['batch', 'batch_size', 'count']];

/** steps × width × height × batch from a job's resolved options (1 for each one the command does not have). */
export function workUnits(params: Readonly<Record<string, unknown>> | undefined): number {
  let units = 1;
  for (const names of WORK_FACTORS) {
    const value = names.map((n) => params?.[n]).find((v) => typeof v === 'number' && Number.isFinite(v) && v > 0);
    if (typeof value === 'number') units *= value;
  }
  return units;
}

export class RunTimeAverages {
  private readonly byBackend = new Map<string, number>();
  private readonly byCommand = new Map<string, number>();

  /** A finished run of `units` work (see workUnits) that took `ms`. */
  record(command: string, backend: string, ms: number, units = 1): void {
    const perUnit = ms / units;
    update(this.byBackend, `${command}\u0000${backend}`, perUnit);
    update(this.byCommand, command, perUnit);
  }

  /** Expected run time in ms of `units` work, or null when this command has never finished. */
  estimate(command: string, backend?: string, units = 1): number | null {
    if (backend !== undefined) {
      const exact = this.byBackend.get(`${command}\u0000${backend}`);
      if (exact !== undefined) return exact * units;
    }
    const any = this.byCommand.get(command);
    return any === undefined ? null : any * units;
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
