// The Comfy API v2 client: submit with an Idempotency-Key (and adopt instead of resubmitting when the outcome
// is unknown), follow jobs as PromptRuns emitting the classic client's events, assets, downloads, and a cancel
// that falls back to ComfyUI's targeted interrupt where the v2 cancel does not stop the job.
import { blake3 } from '@noble/hashes/blake3.js';
import { pino } from 'pino';
import type { Logger } from '../config/logger.js';
import type { CancelResult } from './client.js';
import { ComfyConnectionError, ComfyV2Error } from './errors.js';
import { ComfyHttp } from './http.js';
import { sniffMime } from './outputs.js';
import { PromptRun } from './prompt.js';
import type { ApiWorkflow, AssetReference, NodeOutput, OutputFile } from './types.js';
import { DEFAULT_V2_TIMING, delay, V2Follower, type V2Timing } from './v2-follow.js';
import { V2Http, type V2Job } from './v2-http.js';
import { downloadV2Outputs } from './v2-outputs.js';

export interface ComfyV2ClientOptions {
  name: string;
  url: string;
  apiKey?: string;
  /** The ComfyUI behind a self-hosted proxy: targeted interrupt when the v2 cancel does not stop a job. */
  classicUrl?: string;
  logger?: Logger;
  requestTimeoutMs?: number;
  timing?: Partial<V2Timing> & { cancelConfirmMs?: number };
}

export class ComfyV2Client {
  readonly name: string;
  readonly http: V2Http;
  private readonly classic: ComfyHttp | undefined;
  private readonly log: Logger;
  private readonly timing: V2Timing;
  private readonly cancelConfirmMs: number;
  private readonly followers = new Map<string, V2Follower>();
  private proxy: Promise<boolean> | undefined;

  constructor(options: ComfyV2ClientOptions) {
    this.name = options.name;
    this.http = new V2Http({ name: options.name, url: options.url, ...(options.apiKey ? { apiKey: options.apiKey } : {}), ...(options.requestTimeoutMs ? { requestTimeoutMs: options.requestTimeoutMs } : {}) });
    this.classic = options.classicUrl ? new ComfyHttp({ name: `${options.name} (classic)`, url: options.classicUrl }) : undefined;
    this.log = (options.logger ?? pino({ level: 'silent' })).child({ backend: options.name });
    this.timing = { ...DEFAULT_V2_TIMING, ...options.timing };
    this.cancelConfirmMs = options.timing?.cancelConfirmMs ?? 3_000;
  }

  /** The self-hosted proxy answers `/api/v2/health` and lists jobs; Cloud and deployments do neither. */
  isProxy(): Promise<boolean> {
    this.proxy ??= this.http.health().catch((err: unknown) => {
      this.proxy = undefined;
      throw err;
    });
    return this.proxy;
  }

  /**
   * Reachable and the key accepted: the proxy's health route, else a job lookup that must answer 404 (not 401).
   * Throws what went wrong.
   */
  async probe(): Promise<void> {
    if (await this.isProxy()) return;
    await this.http.job('00000000-0000-4000-8000-000000000000');
  }

  /**
   * Submits with `idempotencyKey` (stored by the caller before this call). An ambiguous failure (no answer,
   * timeout, 5xx) is retried once with the same key; a 422 `idempotency_key_reuse` means the job exists: it is
   * looked up and adopted. Never submits under a new key.
   */
  async submit(workflow: ApiWorkflow, idempotencyKey: string): Promise<PromptRun> {
    const metadata = (await this.isProxy().catch(() => false)) ? idempotencyKey : undefined;
    let job: V2Job;
    try {
      job = await this.http.submit(workflow, idempotencyKey, metadata);
    } catch (err) {
      if (isReuse(err)) return this.adoptExisting(idempotencyKey, err);
      if (!isAmbiguous(err)) throw err;
      this.log.warn({ key: idempotencyKey, err: (err as Error).message }, 'v2 submit outcome unknown; retrying with the same Idempotency-Key');
      try {
        job = await this.http.submit(workflow, idempotencyKey, metadata);
      } catch (again) {
        if (isReuse(again)) return this.adoptExisting(idempotencyKey, again);
        throw again;
      }
    }
    return this.start(job);
  }

  /**
   * Recovery after a crash between storing the key and reading the 201: the job is found by its key (the
   * proxy's list) and followed; when the server has no trace of it, it is submitted with the same key, so a
   * server that did receive it answers `idempotency_key_reuse` instead of running it twice.
   */
  async adopt(idempotencyKey: string, workflow: ApiWorkflow): Promise<PromptRun> {
    const found = await this.findByKey(idempotencyKey);
    if (found) {
      this.log.info({ key: idempotencyKey, job: found.id }, 'v2 job adopted by its Idempotency-Key');
      return this.start(found);
    }
    return this.submit(workflow, idempotencyKey);
  }

  /** Follows a job by id (e.g. after a restart). */
  follow(jobId: string): PromptRun {
    const existing = this.followers.get(jobId);
    if (existing) return existing.run;
    return this.startFollowing(new PromptRun(jobId, Number.NaN, {}), undefined);
  }

  /** Stops following a job (the caller gave up on it); its run emits nothing more. */
  unfollow(jobId: string): void {
    this.followers.get(jobId)?.stop();
    this.followers.delete(jobId);
  }

  /** The job as the server says now; undefined when unknown. */
  job(jobId: string): Promise<V2Job | undefined> {
    return this.http.job(jobId);
  }

  /**
   * Cancels only this job. When the v2 cancel leaves it running or queued (the proxy in front of a ComfyUI
   * without the jobs API answers `canceling` and carries on), ComfyUI's targeted interrupt / dequeue is used
   * if the classic URL is configured.
   */
  async cancel(jobId: string): Promise<CancelResult> {
    const follower = this.followers.get(jobId);
    if (follower) follower.cancelRequested = true;
    const answer = await this.http.cancel(jobId).catch((err: unknown) => {
      if (err instanceof ComfyV2Error && err.status === 404) return undefined;
      throw err;
    });
    if (!answer) return 'not-found';
    if (answer.status === 'canceled') return 'interrupted';
    if (['succeeded', 'failed', 'expired'].includes(answer.status)) return 'not-found';
    const wasQueued = answer.status === 'queued' || answer.queue_position !== null;
    if (answer.status === 'canceling') await delay(this.cancelConfirmMs);
    const now = await this.http.job(jobId);
    if (!now || !['running', 'queued'].includes(now.status)) return wasQueued ? 'dequeued' : 'interrupted';
    if (!this.classic) {
      this.log.warn({ job: jobId, status: now.status }, 'v2 cancel did not stop the job and no classic URL is configured for a targeted interrupt');
      return wasQueued ? 'dequeued' : 'interrupted';
    }
    const queue = await this.classic.queue();
    if (queue.pending.some((item) => item[1] === jobId)) {
      await this.classic.deleteFromQueue([jobId]);
      this.log.info({ job: jobId }, 'v2 cancel did not dequeue the job; removed it from the classic queue instead');
      this.followers.get(jobId)?.recheck();
      return 'dequeued';
    }
    if (queue.running.some((item) => item[1] === jobId)) {
      // Confirmed running and ours: a targeted interrupt touches no one else's job.
      await this.classic.interrupt(jobId);
      this.log.info({ job: jobId }, 'v2 cancel did not stop the job; sent the classic targeted interrupt instead');
      return 'interrupted';
    }
    return 'not-found';
  }

  /**
   * An image input as a `core/ASSET` reference. Bytes already on the server (HEAD by-hash) are minted from their
   * hash instead of being sent again.
   */
  async uploadImage(bytes: Buffer, filename: string, idempotencyKey: string): Promise<AssetReference> {
    const hash = `blake3:${Buffer.from(blake3(bytes)).toString('hex')}`;
    const filePath = filename.split(/[\\/]/).pop() || 'upload.png';
    if (await this.http.hasBlob(hash)) {
      const minted = await this.http.assetFromHash(hash, filePath);
      if (minted) return { __type: 'core/ASSET', info: { id: minted.id, hash } };
    }
    const asset = await this.http.uploadAsset(bytes, filePath, sniffMime(bytes, filePath), idempotencyKey);
    return { __type: 'core/ASSET', info: { id: asset.id, hash: asset.hash ?? hash } };
  }

  downloadOutputs(jobId: string, outputs: Record<string, NodeOutput>, nodeFilter?: string[]): Promise<OutputFile[]> {
    return downloadV2Outputs(this.http, outputs, nodeFilter, async () => (await this.http.job(jobId))?.outputs ?? []);
  }

  async close(): Promise<void> {
    for (const follower of this.followers.values()) follower.stop();
    this.followers.clear();
  }

  // ---- internals ----------------------------------------------------------------------------------------

  private async findByKey(key: string): Promise<V2Job | undefined> {
    if (!(await this.isProxy().catch(() => false))) return undefined;
    const jobs = await this.http.jobs();
    return jobs?.find((job) => job.metadata === key);
  }

  private async adoptExisting(key: string, reuse: unknown): Promise<PromptRun> {
    const found = await this.findByKey(key);
    if (found) {
      this.log.info({ key, job: found.id }, 'Idempotency-Key already used; adopting the job it created');
      return this.start(found);
    }
    throw new ComfyV2Error(
      { backend: this.name, route: 'POST /api/v2/jobs' },
      422,
      'idempotency_key_reuse',
      'the job was submitted before, but the server does not say under which id; it was not submitted again so it cannot run twice',
      null,
      undefined,
      { cause: reuse },
    );
  }

  private start(job: V2Job): PromptRun {
    const run = new PromptRun(job.id, job.queue_position ?? 0, {});
    return this.startFollowing(run, job);
  }

  private startFollowing(run: PromptRun, first: V2Job | undefined): PromptRun {
    const follower = new V2Follower(run, this.http, this.timing, this.log);
    this.followers.set(run.promptId, follower);
    void run.finished.then(() => this.followers.delete(run.promptId));
    void follower.follow(first);
    return run;
  }
}

function isReuse(err: unknown): boolean {
  return err instanceof ComfyV2Error && err.code === 'idempotency_key_reuse';
}

function isAmbiguous(err: unknown): boolean {
  return err instanceof ComfyConnectionError || (err instanceof ComfyV2Error && err.status >= 500);
}
