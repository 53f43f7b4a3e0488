// The Backend over one ComfyUI server (local or Comfy Cloud): health from the WebSocket plus a periodic
// `/system_stats` probe, an inventory of node classes and model files, runs with images uploaded to this
// server right before the submit, and a cancel that touches only the given prompt.
import type { ComfyClient, SubmitOptions } from '../comfy/client.js';
import { ComfyConnectionError, ComfyValidationError } from '../comfy/errors.js';
import type { PromptRun } from '../comfy/prompt.js';
import { jobImageBytes, type BoundSpec, type JobSpec } from '../jobs/job.js';
import { bindImages } from '../templates/prepare.js';
import type { Backend, BackendRun, CancelResult, RunEvent } from './backend.js';
import { readClassicInventory } from './classic-inventory.js';
import type { SerialGate } from './serial-gate.js';
import { forward, WatchedBackend, WrappedRun, type WatchedBackendOptions } from './watched-backend.js';

export interface ComfyBackendOptions extends WatchedBackendOptions {
  client: ComfyClient;
  previewMethod?: SubmitOptions['previewMethod'];
  /** Shared by the backends of a pool, so their inventories are read one at a time (see serial-gate.ts). */
  inventoryGate?: SerialGate;
}

export class ComfyBackend extends WatchedBackend implements Backend {
  readonly api = 'classic' as const;
  private readonly client: ComfyClient;
  private readonly previewMethod: SubmitOptions['previewMethod'];
  private readonly inventoryGate: SerialGate;
  private connectedOnce = false;
  /** When the socket last delivered an event of a run here (the backend's clock). */
  private heardAt = -Infinity;

  constructor(options: ComfyBackendOptions) {
    super(options.client.name, options, {});
    this.client = options.client;
    this.previewMethod = options.previewMethod;
    this.inventoryGate = options.inventoryGate ?? ((task) => task());
    this.client.on('disconnected', () => this.watch.setHealthy(false));
    this.client.on('connected', () => {
      // A restarted server may have other nodes and models: re-read before trusting it again.
      this.inventoryAt = -Infinity;
      void this.probe();
    });
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

  protected async probeOnce(): Promise<void> {
    try {
      if (!this.connectedOnce) {
        await this.client.connect();
        this.connectedOnce = true;
      }
      if (this.heardRecently()) return;
      await this.client.http.systemStats();
      if (this.inventoryStale) this.setInventory(await this.inventoryGate(() => readClassicInventory(this.client.http, this.log)));
      if (!this.client.connected) throw new Error('the WebSocket is not connected');
      this.watch.setHealthy(true);
    } catch (error) {
      this.probeFailed(error);
    }
  }

  /**
   * A healthy backend whose socket delivered a run's events within the last probe period is proven alive: a
   * `/system_stats` request would only repeat it (with fifty busy backends, one request per job). A backend that
   * is down, idle or due for an inventory read is still probed over HTTP.
   */
  private heardRecently(): boolean {
    return this.watch.healthy && this.client.connected && this.clock.now() - this.heardAt < this.probeIntervalMs && !this.inventoryStale;
  }

  protected cancelAbandoned(promptId: string): void {
    this.client.cancel(promptId).then(
      (result) => this.log.info({ promptId, result }, 'abandoned prompt cancelled'),
      (error: unknown) => this.log.warn({ promptId, err: error instanceof Error ? error.message : String(error) }, 'abandoned prompt not cancelled'),
    );
  }

  protected closeClient(): Promise<void> {
    return this.client.close();
  }

  private wrap(run: PromptRun, spec: JobSpec): BackendRun {
    const subscribe = (listener: (event: RunEvent) => void) =>
      run.subscribe((e) => {
        this.heardAt = this.clock.now();
        forward(e, listener);
      });
    const wrapped = new WrappedRun(run.promptId, subscribe, () => this.watch.release(wrapped));
    this.watch.hold(wrapped);
    void run.finished.then((terminal) =>
      this.settle(
        wrapped,
        terminal,
        (outputs) => this.client.downloadOutputs(outputs, spec.outputs),
        (f) => `${f.exceptionType}: ${f.exceptionMessage}`,
      ),
    );
    return wrapped;
  }

  private explain(error: unknown): Error {
    if (error instanceof ComfyConnectionError) return this.unavailable(error);
    if (error instanceof ComfyValidationError) return new Error(`ComfyUI refused the workflow: ${error.describe().join('; ')}`, { cause: error });
    return error instanceof Error ? error : new Error(String(error));
  }
}
