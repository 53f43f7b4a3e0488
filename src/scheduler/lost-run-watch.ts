// A backend's health and what hangs on it: runs on a backend down for `lostAfterMs` end as lost (so their jobs can
// run elsewhere), and each such run is remembered as abandoned and cancelled once the backend answers again, so no
// job runs twice. Shared by both kinds of backend; how an abandoned run is cancelled is theirs to say.
import type { RunOutcome } from './backend.js';
import type { Clock, TimerHandle } from './clock.js';

/** A run the watch can end: the backend's own wrapper around a prompt. */
export interface WatchedRun {
  readonly promptId: string;
  end(outcome: RunOutcome): void;
}

export interface LostRunWatchOptions {
  clock: Clock;
  lostAfterMs: number;
  /** Cancels one abandoned run on the server; called only while healthy, never awaited (it logs its own result). */
  cancelAbandoned: (promptId: string) => void;
  /** Health changed (after the abandoned runs were sent their cancels). */
  onHealth: (healthy: boolean) => void;
}

export class LostRunWatch {
  private up = false;
  private lostTimer: TimerHandle | null = null;
  /** Runs the backend holds, to declare lost if it stays down. */
  private readonly runs = new Set<WatchedRun>();
  /** Prompts given up on while the backend was unreachable: cancelled when it comes back. */
  private readonly abandoned = new Set<string>();

  constructor(private readonly options: LostRunWatchOptions) {}

  get healthy(): boolean {
    return this.up;
  }

  setHealthy(healthy: boolean): void {
    if (healthy === this.up) return;
    this.up = healthy;
    if (healthy) {
      this.clearLostTimer();
      this.cancelAbandoned();
    } else {
      this.lostTimer = this.options.clock.setTimeout(() => this.declareLost(), this.options.lostAfterMs);
    }
    this.options.onHealth(healthy);
  }

  /** Watches a run until `release` (its end). */
  hold(run: WatchedRun): void {
    this.runs.add(run);
  }

  release(run: WatchedRun): void {
    this.runs.delete(run);
  }

  /** Whether the run is still held: false once it ended, lost or not. */
  holds(run: WatchedRun): boolean {
    return this.runs.has(run);
  }

  /** A prompt found on the server after its run was given up on: cancelled now if the backend is up, else on return. */
  abandon(promptId: string): void {
    this.abandoned.add(promptId);
    if (this.up) this.cancelAbandoned();
  }

  stop(): void {
    this.clearLostTimer();
  }

  private clearLostTimer(): void {
    if (this.lostTimer) this.options.clock.clearTimeout(this.lostTimer);
    this.lostTimer = null;
  }

  private declareLost(): void {
    this.lostTimer = null;
    const seconds = Math.round(this.options.lostAfterMs / 1000);
    for (const run of [...this.runs]) {
      // The job runs elsewhere now: this prompt is cancelled once the backend answers again, so it cannot run twice.
      this.abandoned.add(run.promptId);
      run.end({ type: 'lost', message: `it has been unreachable for ${seconds} s` });
    }
  }

  private cancelAbandoned(): void {
    for (const promptId of [...this.abandoned]) {
      this.abandoned.delete(promptId);
      this.options.cancelAbandoned(promptId);
    }
  }
}
