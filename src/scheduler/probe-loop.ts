// The periodic health check of a backend: one probe at a time (concurrent callers share it), the next one
// `intervalMs` after each, or sooner/later when the backend asks (a v2 endpoint's Retry-After). What a probe does
// is the backend's.
import type { Clock, TimerHandle } from './clock.js';

export interface ProbeLoopOptions {
  clock: Clock;
  intervalMs: number;
  /** One health check; must not throw (it records its own failure). */
  probeOnce: () => Promise<void>;
}

export class ProbeLoop {
  private timer: TimerHandle | null = null;
  private probing: Promise<void> | null = null;
  private halted = false;

  constructor(private readonly options: ProbeLoopOptions) {}

  /** True after `stop()` until the next `start()`: no probe runs and none is scheduled. */
  get stopped(): boolean {
    return this.halted;
  }

  start(): Promise<void> {
    this.halted = false;
    return this.probe();
  }

  /** Probes now (or joins the probe under way), then schedules the next one. */
  probe(): Promise<void> {
    this.probing ??= this.probeUnlessStopped().finally(() => {
      this.probing = null;
      this.schedule(this.options.intervalMs);
    });
    return this.probing;
  }

  /** The next probe in `delayMs`, replacing the one scheduled. */
  schedule(delayMs: number): void {
    if (this.halted) return;
    if (this.timer) this.options.clock.clearTimeout(this.timer);
    this.timer = this.options.clock.setTimeout(() => {
      this.timer = null;
      void this.probe();
    }, delayMs);
  }

  stop(): void {
    this.halted = true;
    if (this.timer) this.options.clock.clearTimeout(this.timer);
    this.timer = null;
  }

  private async probeUnlessStopped(): Promise<void> {
    if (this.halted) return;
    await this.options.probeOnce();
  }
}
