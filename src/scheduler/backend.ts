// What the scheduler needs from a place that runs jobs. One implementation talks to ComfyUI
// (comfy-backend.ts); tests use small doubles.
import type { OutputFile, PreviewMime } from '../comfy/types.js';
import type { BoundSpec } from '../jobs/job.js';
import type { Inventory } from './requirements.js';

/** Live events of one run, already attributed to its prompt. */
export type RunEvent =
  | { type: 'started' }
  | { type: 'node'; node: string }
  | { type: 'progress'; node: string | null; value: number; max: number }
  | { type: 'preview'; mime: PreviewMime; bytes: Buffer };

/**
 * How a run ended. `lost` means the backend died or restarted and forgot the prompt: the job may run
 * elsewhere. `failed` is the workflow's own failure: running it elsewhere would not help.
 */
export type RunOutcome =
  | ({ type: 'done'; outputs: OutputFile[] } & Executed)
  | ({ type: 'failed'; message: string } & Executed)
  | ({ type: 'interrupted' } & Executed)
  | { type: 'lost'; message: string };

/**
 * How long the run executed. `executionMs` is the server's own measure (classic ComfyUI: from the history entry's
 * timestamps), the one to charge when present. Otherwise `executedUntil`, when the server's terminal message
 * arrived (epoch ms, the bot's clock), before the outputs were downloaded: the GPU time is then from the run's
 * start (the first `started`/`node`/`progress` event, which the store keeps across restarts) to this, so neither
 * the wait in the server's queue nor the download counts, and a fully cached prompt costs about nothing.
 */
interface Executed {
  executedUntil?: number;
  executionMs?: number;
}

/** The outcome stamped with the time of its terminal message and the server's measure (a lost run is charged nothing). */
export function stampExecuted(outcome: RunOutcome, at: number, executionMs: number | undefined): RunOutcome {
  if (outcome.type === 'lost') return outcome;
  return executionMs === undefined ? { ...outcome, executedUntil: at } : { ...outcome, executedUntil: at, executionMs };
}

export interface BackendRun {
  readonly promptId: string;
  /** Push subscription; returns the unsubscribe function. */
  subscribe(listener: (event: RunEvent) => void): () => void;
  /** Always settles, once, and never rejects. */
  readonly finished: Promise<RunOutcome>;
}

export type CancelResult = 'dequeued' | 'interrupted' | 'not-found';

/** Thrown by `run` when the backend could not be reached: the job goes back to the queue. */
export class BackendUnavailableError extends Error {
  constructor(
    readonly backend: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(`backend ${backend}: ${message}`, options);
    this.name = 'BackendUnavailableError';
  }
}

export interface BackendEvents {
  /** Health changed. */
  health: [healthy: boolean];
  /** The inventory was (re)read. */
  inventory: [];
}

export interface Backend {
  readonly name: string;
  /** The API spoken to it: ComfyUI's own (the default) or Comfy API v2. Labels metrics and status. */
  readonly api?: 'classic' | 'v2';
  /** Jobs submitted to it at once. */
  readonly capacity: number;
  /** Preference between equally loaded backends (higher first). */
  readonly weight: number;
  /** GPU time charged per ms of execution here (a faster card may count more); 1 when absent. */
  readonly costWeight?: number;
  readonly healthy: boolean;
  /** Node classes and models, once read; undefined before the first successful read. */
  readonly inventory: Inventory | undefined;
  on<E extends keyof BackendEvents>(event: E, listener: (...args: BackendEvents[E]) => void): unknown;
  off<E extends keyof BackendEvents>(event: E, listener: (...args: BackendEvents[E]) => void): unknown;
  /**
   * Uploads the job's images, binds them and submits with the given prompt id. Rejects with
   * BackendUnavailableError when the backend cannot be reached, with another Error when it refused the job.
   */
  run(spec: BoundSpec, promptId: string): Promise<BackendRun>;
  /** Adopts a prompt submitted before a restart. */
  follow(spec: BoundSpec, promptId: string): BackendRun;
  /** Stops only that prompt: dequeues it if pending, interrupts it if running. */
  cancel(promptId: string): Promise<CancelResult>;
}
