// The Backend over one Comfy API v2 endpoint (Comfy Cloud, a Comfy API deployment, or comfy-api-proxy in front
// of a ComfyUI), beside comfy-backend.ts so one pool mixes both kinds. The scheduler's dispatch id is the
// Idempotency-Key; the server's job id replaces it once the 201 is read. Discovery stays classic: node classes and
// models from the classic URL's /object_info when one is configured, otherwise nothing is checked.
import { ComfyConnectionError, ComfyV2Error } from '../comfy/errors.js';
import { ComfyHttp } from '../comfy/http.js';
import type { PromptRun } from '../comfy/prompt.js';
import type { AssetReference, PromptEvent } from '../comfy/types.js';
import type { ComfyV2Client } from '../comfy/v2-client.js';
import { delay } from '../comfy/v2-follow.js';
import { jobImageBytes, type BoundSpec, type JobSpec } from '../jobs/job.js';
import { bindImages } from '../templates/prepare.js';
import { BackendUnavailableError, type Backend, type BackendRun, type CancelResult, type RunEvent } from './backend.js';
import { readClassicInventory } from './classic-inventory.js';
import { UNCHECKED_INVENTORY } from './requirements.js';
import { forward, WatchedBackend, WrappedRun, type WatchedBackendOptions } from './watched-backend.js';

export interface V2BackendOptions extends WatchedBackendOptions {
  client: ComfyV2Client;
  /** The ComfyUI behind the endpoint, for node and model discovery (the proxy's upstream, usually :8188). */
  classicUrl?: string;
}

/** 429s that say "not now": the job goes back to the queue and the backend rests for Retry-After. */
const BUSY_CODES = new Set(['queue_full', 'rate_limited', 'deployment_not_ready']);

export class V2Backend extends WatchedBackend implements Backend {
  readonly api = 'v2' as const;
  private readonly client: ComfyV2Client;
  private readonly discovery: ComfyHttp | undefined;
  /** Idempotency key (the scheduler's prompt id) → the server's job id, for runs adopted after a restart. */
  private readonly jobIds = new Map<string, string>();

  constructor(options: V2BackendOptions) {
    super(options.client.name, options, { api: 'v2' });
    this.client = options.client;
    this.discovery = options.classicUrl ? new ComfyHttp({ name: `${options.client.name} (discovery)`, url: options.classicUrl }) : undefined;
  }

  /** Whether node classes and models are checked before dispatch (a classic URL is configured). */
  get discovers(): boolean {
    return this.discovery !== undefined;
  }

  async run(spec: BoundSpec, promptId: string): Promise<BackendRun> {
    try {
      const run = await this.client.submit(await this.bound(spec, promptId), promptId);
      return this.wrap(run.promptId, Promise.resolve(run), spec);
    } catch (error) {
      throw this.explain(error);
    }
  }

  /**
   * After a restart: `promptId` is either the server's job id (the 201 was read) or still the Idempotency-Key (the
   * bot died before it). A job id is followed; a key is looked up, and only if the server has no trace of it is the
   * same attempt submitted again with the same key, which the server refuses if it did get it.
   */
  follow(spec: BoundSpec, promptId: string): BackendRun {
    let wrapped: WrappedRun | undefined;
    const inner = (async (): Promise<PromptRun> => {
      // While the endpoint is unreachable, keep asking: giving up here would submit the job again elsewhere.
      for (let attempt = 0; ; attempt += 1) {
        try {
          if (await this.client.job(promptId)) return this.client.follow(promptId);
          return await this.client.adopt(promptId, await this.bound(spec, promptId));
        } catch (error) {
          if (!(error instanceof ComfyConnectionError) || this.probes.stopped || (wrapped && !this.watch.holds(wrapped))) throw error;
          this.watch.setHealthy(false);
          await delay(Math.min(1_000 * 2 ** attempt, 10_000));
        }
      }
    })();
    wrapped = this.wrap(promptId, inner, spec);
    return wrapped;
  }

  cancel(promptId: string): Promise<CancelResult> {
    return this.client.cancel(this.jobIds.get(promptId) ?? promptId);
  }

  // ---- internals ----------------------------------------------------------------------------------------

  /** The job's workflow with each image option bound to an uploaded (or deduplicated) asset. */
  private async bound(spec: JobSpec, promptId: string): Promise<JobSpec['workflow']> {
    const images = spec.images ?? [];
    if (images.length === 0) return spec.workflow;
    const uploaded: Record<string, AssetReference> = {};
    for (const image of images) uploaded[image.option] = await this.client.uploadImage(await jobImageBytes(image), image.filename, `${promptId}-${image.option}`);
    return bindImages({ command: spec.command, workflow: spec.workflow, images: images.map((i) => ({ option: i.option, target: i.target, ref: null })) }, uploaded);
  }

  protected async probeOnce(): Promise<void> {
    try {
      await this.client.probe();
      if (this.inventoryStale) await this.readInventory();
      this.watch.setHealthy(true);
    } catch (error) {
      this.probeFailed(error);
    }
  }

  private async readInventory(): Promise<void> {
    if (this.discovery) return this.setInventory(await readClassicInventory(this.discovery, this.log));
    if (!this.inventory) this.log.info('no classic URL for discovery: node classes and models are not checked on this backend');
    this.setInventory(UNCHECKED_INVENTORY);
  }

  protected cancelAbandoned(id: string): void {
    const jobId = this.jobIds.get(id) ?? id;
    this.client.unfollow(jobId);
    this.client.cancel(jobId).then(
      (result) => this.log.info({ job: jobId, result }, 'abandoned v2 job cancelled'),
      (error: unknown) => this.log.warn({ job: jobId, err: error instanceof Error ? error.message : String(error) }, 'abandoned v2 job not cancelled'),
    );
  }

  protected closeClient(): Promise<void> {
    return this.client.close();
  }

  /** A run whose prompt may still be on its way (adoption); events are relayed once it is there. */
  private wrap(key: string, inner: Promise<PromptRun>, spec: JobSpec): WrappedRun {
    const listeners = new Set<(event: RunEvent) => void>();
    const wrapped = new WrappedRun(
      key,
      (listener) => {
        listeners.add(listener);
        return () => listeners.delete(listener);
      },
      () => {
        this.watch.release(wrapped);
        this.jobIds.delete(key);
      },
    );
    this.watch.hold(wrapped);
    inner.then(
      (run) => {
        if (!this.watch.holds(wrapped)) {
          // Declared lost before the run was found: it is abandoned like any other.
          this.watch.abandon(run.promptId);
          return;
        }
        // Adopted under its key: the store keeps the key, so a cancel by key must reach the server's job id.
        if (run.promptId !== key) this.jobIds.set(key, run.promptId);
        run.subscribe((event: PromptEvent) => {
          for (const listener of [...listeners]) forward(event, listener);
        });
        void run.finished.then((terminal) =>
          this.settle(
            wrapped,
            terminal,
            (outputs) => this.client.downloadOutputs(run.promptId, outputs, spec.outputs),
            (f) => f.exceptionMessage,
          ),
        );
      },
      (error: unknown) => {
        const explained = this.explain(error);
        wrapped.end(explained instanceof BackendUnavailableError ? { type: 'lost', message: explained.message } : { type: 'failed', message: explained.message });
      },
    );
    return wrapped;
  }

  private explain(error: unknown): Error {
    if (error instanceof ComfyConnectionError || (error instanceof ComfyV2Error && error.status >= 500)) return this.unavailable(error);
    if (error instanceof ComfyV2Error && BUSY_CODES.has(error.code)) {
      // Not now: the job returns to the queue (another backend may take it) and this one rests as asked.
      const restMs = error.retryAfterMs ?? 5_000;
      this.log.info({ code: error.code, retryAfterMs: restMs }, 'v2 backend busy; resting before the next job');
      this.watch.setHealthy(false);
      this.probes.schedule(restMs);
      return new BackendUnavailableError(this.name, `${error.code}: retry after ${Math.round(restMs / 1000)} s`, { cause: error });
    }
    if (error instanceof ComfyV2Error && error.code === 'insufficient_credits') {
      this.log.error({ code: error.code }, 'the Comfy account of this backend is out of credits');
      return new Error(`${this.name} cannot run jobs: the Comfy account has run out of credits (the bot's operator must top it up)`, { cause: error });
    }
    if (error instanceof ComfyV2Error && error.code === 'invalid_workflow') {
      return new Error(`Comfy refused the workflow: ${error.describe().join('; ') || error.message}`, { cause: error });
    }
    return error instanceof Error ? error : new Error(String(error));
  }
}
