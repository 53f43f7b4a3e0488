// Follows one v2 job and turns it into the PromptEvents the classic client emits. The SSE stream is the live
// feed; `GET /api/v2/jobs/{id}` is the truth: it is read after every reconnect and before a terminal status is
// believed, and an `expired` is re-read a few times because the proxy reports it for jobs that finish between its
// two upstream reads. A stream that ends without a terminal status is followed by one poll, then a reconnect.
import type { Logger } from '../config/logger.js';
import { ComfyConnectionError, ComfyV2Error } from './errors.js';
import type { PromptRun } from './prompt.js';
import { readSse } from './sse.js';
import type { PreviewMime } from './types.js';
import type { V2Http, V2Job, V2Output, V2Progress, V2Status } from './v2-http.js';
import { outputsOfJob } from './v2-outputs.js';

export interface V2Timing {
  /** No byte for this long (keepalives count) = a dead stream. */
  silenceMs: number;
  /** Re-reads of a job that says `expired` before believing it. */
  expiredRetryMs: number[];
  /** Waits between reconnects (the last one repeats). */
  reconnectMs: number[];
}

export const DEFAULT_V2_TIMING: V2Timing = { silenceMs: 45_000, expiredRetryMs: [500, 1_000, 2_000], reconnectMs: [250, 1_000, 2_000, 5_000] };

const TERMINAL: ReadonlySet<V2Status> = new Set(['succeeded', 'failed', 'canceled', 'expired']);
const PREVIEW_MIMES: ReadonlySet<string> = new Set(['image/jpeg', 'image/png', 'image/webp']);

export class V2Follower {
  private started = false;
  /** The card's bar never goes backwards: the highest normalised value shown so far. */
  private shownValue = 0;
  private lastNode: string | null = null;
  private readonly streamedOutputs: V2Output[] = [];
  private abort: AbortController | undefined;
  private stopped = false;
  /** Set by cancel(): an `expired` that follows a dequeue means the cancel worked. */
  cancelRequested = false;

  constructor(
    readonly run: PromptRun,
    private readonly http: V2Http,
    private readonly timing: V2Timing,
    private readonly log: Logger,
  ) {}

  get jobId(): string {
    return this.run.promptId;
  }

  /** Runs until the job is terminal (or stop()); never rejects. */
  async follow(first?: V2Job): Promise<void> {
    let attempt = 0;
    let job = first;
    try {
      while (!this.run.ended && !this.stopped) {
        if (job === undefined || attempt > 0) {
          // Reconcile: after a reconnect (frames missed while away are lost) and before the first stream.
          job = await this.poll();
          if (!job) return;
          if (await this.applyPolled(job)) return;
        } else if (await this.applyPolled(job)) {
          // Adopted already finished (or the 201 of a job that ended at once).
          return;
        }
        const terminal = await this.stream();
        if (terminal) {
          if (await this.confirmTerminal()) return;
        }
        await delay(this.timing.reconnectMs[Math.min(attempt, this.timing.reconnectMs.length - 1)]!);
        attempt += 1;
      }
    } catch (err) {
      if (this.stopped) return;
      this.log.warn({ job: this.jobId, err: err instanceof Error ? err.message : String(err) }, 'v2 job could not be followed');
      this.run.emit({ type: 'failed', promptId: this.jobId, reason: { kind: 'lost', message: `following job ${this.jobId} failed: ${err instanceof Error ? err.message : String(err)}` } });
    }
  }

  /** Drops the current stream so the job is polled now (a dequeued job's stream would say nothing more). */
  recheck(): void {
    this.abort?.abort();
  }

  stop(): void {
    this.stopped = true;
    this.abort?.abort();
  }

  /** One SSE connection; true when it announced a terminal status. */
  private async stream(): Promise<boolean> {
    const abort = new AbortController();
    this.abort = abort;
    let body: AsyncIterable<Uint8Array>;
    try {
      body = await this.http.events(this.jobId, abort.signal);
    } catch (err) {
      if (err instanceof ComfyV2Error && err.code === 'too_many_streams') {
        // Over the server's stream cap: poll instead, at the pace it asked for.
        this.log.info({ job: this.jobId, retryAfterMs: err.retryAfterMs }, 'v2 stream cap reached; polling');
        await delay(err.retryAfterMs ?? 5_000);
        return false;
      }
      if (err instanceof ComfyConnectionError || (err instanceof ComfyV2Error && err.status >= 500)) return false;
      throw err;
    }
    let silent = false;
    for await (const frame of readSse(body, { silenceMs: this.timing.silenceMs, abort: () => abort.abort(), onSilent: () => (silent = true) })) {
      if (this.run.ended) break;
      let data: Record<string, unknown>;
      try {
        data = JSON.parse(frame.data) as Record<string, unknown>;
      } catch {
        continue;
      }
      if (frame.event === 'status' && typeof data.status === 'string') {
        const status = data.status as V2Status;
        if (TERMINAL.has(status)) return true;
        this.applyStatus(status, typeof data.queue_position === 'number' ? data.queue_position : null);
      } else if (frame.event === 'progress') {
        this.applyProgress(data as unknown as V2Progress);
      } else if (frame.event === 'preview') {
        this.applyPreview(data);
      } else if (frame.event === 'output' && typeof data.node_id === 'string') {
        this.streamedOutputs.push(data as unknown as V2Output);
      }
    }
    if (silent) this.log.info({ job: this.jobId, silenceMs: this.timing.silenceMs }, 'v2 stream silent; reconnecting');
    return false;
  }

  /** The stream said terminal: only the job resource decides. True when the run ended. */
  private async confirmTerminal(): Promise<boolean> {
    const job = await this.poll();
    if (!job) return true;
    return this.applyPolled(job);
  }

  /**
   * GET the job; a 404 ends the run as lost (undefined). An unreachable server, a 5xx or a 429 is waited out
   * (the backend decides when a run is lost), so a blip never makes the bot give up on a job that still runs.
   */
  private async poll(): Promise<V2Job | undefined> {
    let job: V2Job | undefined;
    for (let attempt = 0; ; attempt += 1) {
      try {
        job = await this.http.job(this.jobId);
        break;
      } catch (err) {
        const transient = err instanceof ComfyConnectionError || (err instanceof ComfyV2Error && (err.status >= 500 || err.status === 429));
        if (!transient || this.stopped) throw err;
        const wait = err instanceof ComfyV2Error && err.retryAfterMs !== undefined ? err.retryAfterMs : this.timing.reconnectMs[Math.min(attempt, this.timing.reconnectMs.length - 1)]!;
        await delay(wait);
      }
    }
    if (job) return job;
    this.run.emit({ type: 'failed', promptId: this.jobId, reason: { kind: 'lost', message: `job ${this.jobId} is unknown to ${this.http.name} (past retention, or the server lost it)` } });
    return undefined;
  }

  /** Applies a polled job; true when it ended the run. `expired` is re-read before it is believed. */
  private async applyPolled(job: V2Job): Promise<boolean> {
    let current = job;
    for (const wait of this.timing.expiredRetryMs) {
      if (current.status !== 'expired') break;
      await delay(wait);
      const again = await this.poll();
      if (!again) return true;
      current = again;
    }
    if (TERMINAL.has(current.status)) {
      this.finish(current);
      return true;
    }
    this.applySnapshot(current);
    return false;
  }

  private applySnapshot(job: V2Job): void {
    this.applyStatus(job.status, job.queue_position);
    if (job.progress) this.applyProgress(job.progress);
  }

  private applyStatus(status: V2Status, position: number | null): void {
    if (status === 'queued') {
      this.run.emit({ type: 'queued', promptId: this.jobId, number: position ?? 0, ...(position !== null ? { position } : {}) });
    } else if ((status === 'running' || status === 'canceling') && !this.started) {
      this.started = true;
      this.run.emit({ type: 'started', promptId: this.jobId });
    }
  }

  private applyProgress(progress: V2Progress): void {
    const node = progress.current_node ?? null;
    if (node && node !== this.lastNode) {
      this.applyStatus('running', null);
      this.lastNode = node;
      this.run.emit({ type: 'node', promptId: this.jobId, node });
    }
    if (typeof progress.step === 'number' && typeof progress.steps === 'number' && progress.steps > 0) {
      this.applyStatus('running', null);
      this.run.emit({ type: 'progress', promptId: this.jobId, node, value: progress.step, max: progress.steps });
      return;
    }
    // No sampler step: the normalised value, which on the proxy is not monotonic, held at its high-water mark.
    if (typeof progress.value !== 'number' || progress.value <= this.shownValue) return;
    this.shownValue = Math.min(1, progress.value);
    this.run.emit({ type: 'progress', promptId: this.jobId, node, value: Math.round(this.shownValue * 100), max: 100 });
  }

  private applyPreview(data: Record<string, unknown>): void {
    const mime = typeof data.content_type === 'string' ? data.content_type : 'image/jpeg';
    if (!PREVIEW_MIMES.has(mime) || typeof data.data_base64 !== 'string') return;
    const bytes = Buffer.from(data.data_base64, 'base64');
    if (bytes.length === 0) return;
    this.run.emit({ type: 'preview', promptId: this.jobId, node: typeof data.node_id === 'string' ? data.node_id : null, mime: mime as PreviewMime, bytes });
  }

  private finish(job: V2Job): void {
    const promptId = this.jobId;
    switch (job.status) {
      case 'succeeded': {
        // The job's outputs are the truth; streamed ones it lacks (best effort on either side) are kept too.
        const known = new Set(job.outputs.map((o) => `${o.node_id}/${o.name}`));
        const all = [...job.outputs, ...this.streamedOutputs.filter((o) => !known.has(`${o.node_id}/${o.name}`))];
        const outputs = outputsOfJob(all);
        for (const [node, output] of Object.entries(outputs)) this.run.emit({ type: 'output', promptId, node, output });
        this.run.emit({ type: 'done', promptId, outputs });
        return;
      }
      case 'canceled':
        this.run.emit({ type: 'interrupted', promptId });
        return;
      case 'failed': {
        const e = job.error;
        this.run.emit({
          type: 'failed',
          promptId,
          reason: {
            kind: 'execution',
            failure: { nodeId: e?.node_id ?? null, nodeType: e?.class_type ?? null, exceptionType: e?.code ?? 'failed', exceptionMessage: e?.message ?? 'the job failed', traceback: e?.traceback ? [e.traceback] : [] },
          },
        });
        return;
      }
      default:
        // Still `expired` after the re-reads: a dequeued job after our cancel, else one the server lost.
        if (this.cancelRequested) this.run.emit({ type: 'interrupted', promptId });
        else this.run.emit({ type: 'failed', promptId, reason: { kind: 'lost', message: `job ${promptId} expired on ${this.http.name} (the server no longer has it)` } });
    }
  }
}

export function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
