// What every kind of backend (classic ComfyUI, Comfy API v2) shares: its identity and weights, a probe loop that
// decides its health, a watch that declares its runs lost after a long outage, an inventory re-read when stale,
// and the mapping of a prompt's terminal event to the scheduler's outcome. Each kind says how it probes, reads
// its inventory, cancels an abandoned prompt and closes its client.
import { EventEmitter } from 'node:events';
import { failedNode } from '../comfy/errors.js';
import type { ExecutionFailure, NodeOutput, OutputFile, PromptEvent, TerminalPromptEvent } from '../comfy/types.js';
import { silentLogger, type Logger } from '../config/logger.js';
import { BackendUnavailableError, stampExecuted, type BackendEvents, type BackendRun, type RunEvent, type RunOutcome } from './backend.js';
import { systemClock, type Clock } from './clock.js';
import { LostRunWatch } from './lost-run-watch.js';
import { ProbeLoop } from './probe-loop.js';
import type { Inventory } from './requirements.js';

/** Fetches a successful prompt's output files. */
type Download = (outputs: Record<string, NodeOutput>) => Promise<OutputFile[]>;

export interface WatchedBackendOptions {
  capacity?: number;
  weight?: number;
  /** GPU time charged per ms executed here (default 1). */
  costWeight?: number;
  clock?: Clock;
  logger?: Logger;
  /** Health probe period. */
  probeIntervalMs?: number;
  /** Node classes and model lists are re-read this often (and after every reconnect). */
  inventoryRefreshMs?: number;
  /** Runs on a backend down this long are declared lost, so their jobs can run elsewhere. */
  lostAfterMs?: number;
}

export abstract class WatchedBackend extends EventEmitter<BackendEvents> {
  readonly capacity: number;
  readonly weight: number;
  readonly costWeight: number;
  protected readonly clock: Clock;
  protected readonly log: Logger;
  protected readonly probeIntervalMs: number;
  protected readonly inventoryRefreshMs: number;
  protected readonly probes: ProbeLoop;
  protected readonly watch: LostRunWatch;
  private inv: Inventory | undefined;
  /** When the inventory was last read (the backend's clock); -Infinity forces a read on the next probe. */
  protected inventoryAt = -Infinity;

  constructor(
    readonly name: string,
    options: WatchedBackendOptions,
    logBindings: Record<string, string>,
  ) {
    super();
    this.capacity = options.capacity ?? 1;
    this.weight = options.weight ?? 1;
    this.costWeight = options.costWeight ?? 1;
    this.clock = options.clock ?? systemClock;
    this.log = (options.logger ?? silentLogger).child({ backend: name, ...logBindings });
    this.probeIntervalMs = options.probeIntervalMs ?? 10_000;
    this.inventoryRefreshMs = options.inventoryRefreshMs ?? 300_000;
    this.probes = new ProbeLoop({ clock: this.clock, intervalMs: this.probeIntervalMs, probeOnce: () => this.probeOnce() });
    this.watch = new LostRunWatch({
      clock: this.clock,
      lostAfterMs: options.lostAfterMs ?? 60_000,
      cancelAbandoned: (id) => this.cancelAbandoned(id),
      onHealth: (healthy) => this.emit('health', healthy),
    });
  }

  get healthy(): boolean {
    return this.watch.healthy;
  }

  get inventory(): Inventory | undefined {
    return this.inv;
  }

  /** Connects and probes once; never throws (a down backend becomes healthy by itself when it answers). */
  async start(): Promise<void> {
    await this.probes.start();
  }

  async stop(): Promise<void> {
    this.probes.stop();
    this.watch.stop();
    await this.closeClient();
  }

  /** One health check now; concurrent calls share one. */
  probe(): Promise<void> {
    return this.probes.probe();
  }

  /** One health check; records its own failure (`watch.setHealthy(false)`) rather than throwing. */
  protected abstract probeOnce(): Promise<void>;

  /** A prompt whose run was declared lost: stop it on the server if it is still there, without waiting. */
  protected abstract cancelAbandoned(promptId: string): void;

  protected abstract closeClient(): Promise<void>;

  protected get inventoryStale(): boolean {
    return this.clock.now() - this.inventoryAt >= this.inventoryRefreshMs;
  }

  protected setInventory(inventory: Inventory): void {
    this.inv = inventory;
    this.inventoryAt = this.clock.now();
    this.emit('inventory');
  }

  protected probeFailed(error: unknown): void {
    this.log.debug({ err: error instanceof Error ? error.message : String(error) }, 'probe failed');
    this.watch.setHealthy(false);
  }

  /** A failure that says the server is unreachable: the backend is down, and the job is to run elsewhere. */
  protected unavailable(error: Error): BackendUnavailableError {
    this.watch.setHealthy(false);
    return new BackendUnavailableError(this.name, error.message, { cause: error });
  }

  /** Ends `wrapped` with its finished prompt's outcome, stamped with when the prompt ended (for GPU time). */
  protected async settle(wrapped: WrappedRun, terminal: TerminalPromptEvent, download: Download, describe: (failure: ExecutionFailure) => string): Promise<void> {
    const at = this.clock.now();
    wrapped.end(stampExecuted(await this.outcome(terminal, download, describe), at, terminal.executionMs));
  }

  /**
   * The scheduler's outcome of a finished prompt: outputs downloaded on success, the failing node and its message
   * on an execution error (`describe` words it as this API reports it), lost when the server lost the prompt.
   */
  private async outcome(
    terminal: TerminalPromptEvent,
    download: Download,
    describe: (failure: ExecutionFailure) => string,
  ): Promise<RunOutcome> {
    if (terminal.type === 'interrupted') return { type: 'interrupted' };
    if (terminal.type === 'failed') {
      const reason = terminal.reason;
      if (reason.kind !== 'execution') return { type: 'lost', message: reason.message };
      const node = failedNode(reason.failure);
      return { type: 'failed', message: `${node ? `${node} failed` : 'the workflow failed'}: ${describe(reason.failure)}`.trim() };
    }
    try {
      return { type: 'done', outputs: await download(terminal.outputs) };
    } catch (error) {
      return { type: 'failed', message: `the outputs could not be downloaded from ${this.name}: ${error instanceof Error ? error.message : String(error)}` };
    }
  }
}

/** A prompt's events as the scheduler sees them (the rest stay inside the client). */
export function forward(event: PromptEvent, listener: (event: RunEvent) => void): void {
  switch (event.type) {
    case 'started':
      return listener({ type: 'started' });
    case 'node':
      return listener({ type: 'node', node: event.node });
    case 'progress':
      return listener({ type: 'progress', node: event.node, value: event.value, max: event.max });
    case 'preview':
      return listener({ type: 'preview', mime: event.mime, bytes: event.bytes });
    default:
      return undefined;
  }
}

/** A run whose end comes from the prompt or from the backend declaring it lost, whichever is first. */
export class WrappedRun implements BackendRun {
  readonly finished: Promise<RunOutcome>;
  private resolve!: (outcome: RunOutcome) => void;
  private ended = false;

  constructor(
    readonly promptId: string,
    readonly subscribe: (listener: (event: RunEvent) => void) => () => void,
    private readonly onEnd: () => void,
  ) {
    this.finished = new Promise((resolve) => (this.resolve = resolve));
  }

  end(outcome: RunOutcome): void {
    if (this.ended) return;
    this.ended = true;
    this.onEnd();
    this.resolve(outcome);
  }
}
