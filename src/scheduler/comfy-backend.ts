// The Backend over one ComfyUI server (local or Comfy Cloud): health from the WebSocket plus a periodic
// `/system_stats` probe, an inventory of node classes and model files, runs with images uploaded to this
// server right before the submit, and a cancel that touches only the given prompt.
import { EventEmitter } from 'node:events';
import type { ComfyClient, SubmitOptions } from '../comfy/client.js';
import { ComfyConnectionError, ComfyValidationError, failedNode } from '../comfy/errors.js';
import type { PromptRun } from '../comfy/prompt.js';
import type { PromptEvent, TerminalPromptEvent } from '../comfy/types.js';
import { silentLogger, type Logger } from '../config/logger.js';
import { jobImageBytes, type BoundSpec, type JobSpec } from '../jobs/job.js';
import { bindImages } from '../templates/prepare.js';
import {
  BackendUnavailableError,
  type Backend,
  type BackendEvents,
  type BackendRun,
  type CancelResult,
  type RunEvent,
  stampExecuted,
  type RunOutcome,
} from './backend.js';
import { readClassicInventory } from './classic-inventory.js';
import { systemClock, type Clock } from './clock.js';
import { LostRunWatch } from './lost-run-watch.js';
import { ProbeLoop } from './probe-loop.js';
import type { Inventory } from './requirements.js';
import type { SerialGate } from './serial-gate.js';

export interface ComfyBackendOptions {
  client: ComfyClient;
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
  previewMethod?: SubmitOptions['previewMethod'];
  /** Shared by the backends of a pool, so their node lists are read (and parsed) one at a time. */
  inventoryGate?: SerialGate;
}

export class ComfyBackend extends EventEmitter<BackendEvents> implements Backend {
  readonly api = 'classic' as const;
  readonly name: string;
  readonly capacity: number;
  readonly weight: number;
  readonly costWeight: number;
  private readonly client: ComfyClient;
  private readonly clock: Clock;
  private readonly log: Logger;
  private readonly inventoryRefreshMs: number;
  private readonly previewMethod: SubmitOptions['previewMethod'];
  private readonly probes: ProbeLoop;
  private readonly watch: LostRunWatch;
  private readonly inventoryGate: SerialGate;
  private connectedOnce = false;
  private inv: Inventory | undefined;
  private inventoryAt = -Infinity;
  private readonly probeIntervalMs: number;
  /** When the socket last delivered an event of a run here (the backend's clock). */
  private heardAt = -Infinity;

  constructor(options: ComfyBackendOptions) {
    super();
    this.client = options.client;
    this.name = options.client.name;
    this.capacity = options.capacity ?? 1;
    this.weight = options.weight ?? 1;
    this.costWeight = options.costWeight ?? 1;
    this.clock = options.clock ?? systemClock;
    this.log = (options.logger ?? silentLogger).child({ backend: this.name });
    this.inventoryRefreshMs = options.inventoryRefreshMs ?? 300_000;
    this.previewMethod = options.previewMethod;
    this.probeIntervalMs = options.probeIntervalMs ?? 10_000;
    this.probes = new ProbeLoop({ clock: this.clock, intervalMs: this.probeIntervalMs, probeOnce: () => this.probeOnce() });
    this.watch = new LostRunWatch({
      clock: this.clock,
      lostAfterMs: options.lostAfterMs ?? 60_000,
      cancelAbandoned: (promptId) => this.cancelAbandoned(promptId),
      onHealth: (healthy) => this.emit('health', healthy),
    });
    this.inventoryGate = options.inventoryGate ?? ((task) => task());
    this.client.on('disconnected', () => this.watch.setHealthy(false));
    this.client.on('connected', () => {
      // A restarted server may have other nodes and models: re-read before trusting it again.
      this.inventoryAt = -Infinity;
      void this.probe();
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
    await this.client.close();
  }

  /** One health check: connect if needed, `/system_stats`, inventory when stale. Concurrent calls share one. */
  probe(): Promise<void> {
    return this.probes.probe();
  }

  async run(spec: BoundSpec, promptId: string): Promise<BackendRun> {
    try {
      const uploaded: Record<string, string> = {};
      for (const image of spec.images ?? []) {
        const result = await this.client.upload(await jobImageBytes(image), image.filename, { kind: 'image' });
        uploaded[image.option] = result.subfolder ? `${result.subfolder}/${result.name}` : result.name;
      }
      const workflow = (spec.images ?? []).length
        ? bindImages({ command: spec.command, workflow: spec.workflow, images: (spec.images ?? []).map((i) => ({ option: i.option, target: i.target, ref: null })) }, uploaded)
        : spec.workflow;
      const run = await this.client.submit(workflow, {
        promptId,
        ...(this.previewMethod ? { previewMethod: this.previewMethod } : {}),
      });
      return this.wrap(run, spec);
    } catch (error) {
      throw this.explain(error);
    }
  }

  follow(spec: BoundSpec, promptId: string): BackendRun {
    return this.wrap(this.client.follow(promptId), spec);
  }

  cancel(promptId: string): Promise<CancelResult> {
    return this.client.cancel(promptId);
  }

  // ---- internals ----------------------------------------------------------------------------------------

  private async probeOnce(): Promise<void> {
    try {
      if (!this.connectedOnce) {
        await this.client.connect();
        this.connectedOnce = true;
      }
      if (this.heardRecently()) return;
      await this.client.http.systemStats();
      if (this.clock.now() - this.inventoryAt >= this.inventoryRefreshMs) await this.readInventory();
      if (!this.client.connected) throw new Error('the WebSocket is not connected');
      this.watch.setHealthy(true);
    } catch (error) {
      this.log.debug({ err: error instanceof Error ? error.message : String(error) }, 'probe failed');
      this.watch.setHealthy(false);
    }
  }

  /**
   * A healthy backend whose socket delivered a run's events within the last probe period is proven alive: a
   * `/system_stats` request would only repeat it (with fifty busy backends, one request per job). A backend that
   * is down, idle or due for an inventory read is still probed over HTTP.
   */
  private heardRecently(): boolean {
    const now = this.clock.now();
    return (
      this.watch.healthy &&
      this.client.connected &&
      now - this.heardAt < this.probeIntervalMs &&
      now - this.inventoryAt < this.inventoryRefreshMs
    );
  }

  private async readInventory(): Promise<void> {
    this.inv = await readClassicInventory(this.client.http, this.log, this.inventoryGate);
    this.inventoryAt = this.clock.now();
    this.emit('inventory');
  }

  private cancelAbandoned(promptId: string): void {
    this.client.cancel(promptId).then(
      (result) => this.log.info({ promptId, result }, 'abandoned prompt cancelled'),
      (error: unknown) => this.log.warn({ promptId, err: error instanceof Error ? error.message : String(error) }, 'abandoned prompt not cancelled'),
    );
  }

  private wrap(run: PromptRun, spec: JobSpec): BackendRun {
    const subscribe = (listener: (event: RunEvent) => void) =>
      run.subscribe((e) => {
        this.heardAt = this.clock.now();
        forward(e, listener);
      });
    const wrapped = new WrappedRun(run.promptId, subscribe, () => this.watch.release(wrapped));
    this.watch.hold(wrapped);
    void run.finished.then(async (terminal) => {
      const at = this.clock.now();
      wrapped.end(stampExecuted(await this.outcome(terminal, spec), at, terminal.executionMs));
    });
    return wrapped;
  }

  private async outcome(terminal: TerminalPromptEvent, spec: JobSpec): Promise<RunOutcome> {
    if (terminal.type === 'interrupted') return { type: 'interrupted' };
    if (terminal.type === 'failed') {
      const reason = terminal.reason;
      if (reason.kind === 'execution') {
        const f = reason.failure;
        const node = failedNode(f);
        const where = node ? `${node} failed` : 'the workflow failed';
        return { type: 'failed', message: `${where}: ${f.exceptionType}: ${f.exceptionMessage}`.trim() };
      }
      return { type: 'lost', message: reason.message };
    }
    try {
      return { type: 'done', outputs: await this.client.downloadOutputs(terminal.outputs, spec.outputs) };
    } catch (error) {
      return { type: 'failed', message: `the outputs could not be downloaded from ${this.name}: ${error instanceof Error ? error.message : String(error)}` };
    }
  }

  private explain(error: unknown): Error {
    if (error instanceof ComfyConnectionError) {
      this.watch.setHealthy(false);
      return new BackendUnavailableError(this.name, error.message, { cause: error });
    }
    if (error instanceof ComfyValidationError) return new Error(`ComfyUI refused the workflow: ${error.describe().join('; ')}`, { cause: error });
    return error instanceof Error ? error : new Error(String(error));
  }
}

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
