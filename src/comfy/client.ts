// One ComfyUI backend: HTTP routes, one WebSocket, and the runs of the prompts this client submitted.
import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { pino } from 'pino';
import type { Logger } from '../config/logger.js';
import { ComfyConnectionError } from './errors.js';
import type { BinaryFrame } from './frames.js';
import { ComfyHttp, type QueueState, type UploadResult } from './http.js';
import type { ServerMessage } from './messages.js';
import { downloadOutputs } from './outputs.js';
import { PromptRun } from './prompt.js';
import { ComfySocket } from './socket.js';
import { PromptTracker, type TrackerTiming } from './tracker.js';
import type { ApiWorkflow, FileRef, NodeOutput, OutputFile } from './types.js';

export interface ComfyClientOptions {
  name: string;
  url: string;
  apiKey?: string;
  clientId?: string;
  logger?: Logger;
  requestTimeoutMs?: number;
  reconnect?: { minMs: number; maxMs: number };
  heartbeatMs?: number;
  /** A run with no frame for this long is checked through /history and /queue. */
  stallMs?: number;
  /** Waits between history reads while an entry is expected but not yet written. */
  historyRetryMs?: number[];
  successGraceMs?: number;
}

export interface Capabilities {
  version?: string;
  featureFlags: Record<string, unknown>;
  targetedInterrupt: boolean;
  clientPromptId: boolean;
  jobsApi: boolean;
  cloud: boolean;
}

export interface SubmitOptions {
  promptId?: string;
  extraData?: Record<string, unknown>;
  previewMethod?: 'auto' | 'latent2rgb' | 'taesd' | 'none' | 'default';
  front?: boolean;
  partialExecutionTargets?: string[];
}

export type CancelResult = 'dequeued' | 'interrupted' | 'not-found';

interface ClientEvents {
  connected: [];
  disconnected: [];
  status: [number];
}

/** `0.3.57` style versions compared numerically. */
export function versionAtLeast(version: string | undefined, minimum: string): boolean {
  if (!version) return false;
  const a = version.replace(/^v/, '').split(/[.+-]/).map((p) => Number.parseInt(p, 10) || 0);
  const b = minimum.split('.').map((p) => Number.parseInt(p, 10));
  for (let i = 0; i < b.length; i += 1) {
    const x = a[i] ?? 0;
    const y = b[i] ?? 0;
    if (x !== y) return x > y;
  }
  return true;
}

export class ComfyClient extends EventEmitter<ClientEvents> {
  readonly name: string;
  readonly clientId: string;
  readonly http: ComfyHttp;
  private readonly logger: Logger;
  private readonly socket: ComfySocket;
  private readonly trackers = new Map<string, PromptTracker>();
  private readonly timing: TrackerTiming;
  private readonly stallMs: number;
  private stallTimer: NodeJS.Timeout | undefined;
  private caps: Promise<Capabilities> | undefined;
  /** The prompt executing for this client id: type-1 previews and text frames carry no prompt id. */
  private executing: string | undefined;
  private everConnected = false;
  /**
   * Frames about prompts we do not track yet, kept while a submit is in flight: the socket can deliver a
   * prompt's first frames (or, for a cached prompt, all of them) before the HTTP answer that names it.
   */
  private submitting = 0;
  private orphans: Array<{ promptId: string | undefined; item: ServerMessage | BinaryFrame }> = [];

  constructor(options: ComfyClientOptions) {
    super();
    this.name = options.name;
    this.clientId = options.clientId ?? randomUUID();
    this.logger = (options.logger ?? pino({ level: 'silent' })).child({ backend: options.name });
    this.http = new ComfyHttp({
      name: options.name,
      url: options.url,
      ...(options.apiKey !== undefined ? { apiKey: options.apiKey } : {}),
      ...(options.requestTimeoutMs !== undefined ? { requestTimeoutMs: options.requestTimeoutMs } : {}),
    });
    this.timing = {
      successGraceMs: options.successGraceMs ?? 1_000,
      historyRetryMs: options.historyRetryMs ?? [50, 100, 200, 400, 800, 1600],
      now: () => Date.now(),
    };
    this.stallMs = options.stallMs ?? 30_000;
    const wsUrl = new URL(this.http.baseUrl);
    wsUrl.protocol = wsUrl.protocol === 'https:' ? 'wss:' : 'ws:';
    wsUrl.pathname = `${wsUrl.pathname.replace(/\/$/, '')}/ws`;
    wsUrl.searchParams.set('clientId', this.clientId);
    if (options.apiKey) wsUrl.searchParams.set('token', options.apiKey);
    this.socket = new ComfySocket({
      url: wsUrl.toString(),
      logger: this.logger,
      reconnect: options.reconnect ?? { minMs: 500, maxMs: 30_000 },
      heartbeatMs: options.heartbeatMs ?? 15_000,
    });
    this.socket.on('message', (m) => this.onMessage(m));
    this.socket.on('binary', (f) => this.onFrame(f));
    this.socket.on('open', () => this.onOpen());
    // `executing` survives a reconnect: the server replays `executing{node}` without a prompt id for the prompt
    // still running for this client id, and the run's end (or reconciliation) clears it.
    this.socket.on('close', () => this.emit('disconnected'));
  }

  get connected(): boolean {
    return this.socket.open;
  }

  async connect(): Promise<void> {
    try {
      await this.socket.start();
    } catch {
      this.socket.stop();
      // Say why through the HTTP side: it names refused / timeout / 403 precisely.
      await this.http.systemStats();
      throw new ComfyConnectionError({ backend: this.name, route: 'GET /ws' }, this.http.baseUrl, 'the WebSocket did not open although HTTP answers');
    }
    clearInterval(this.stallTimer);
    this.stallTimer = setInterval(() => this.checkStalls(), Math.max(50, Math.floor(this.stallMs / 2)));
  }

  async close(): Promise<void> {
    clearInterval(this.stallTimer);
    this.socket.stop();
    for (const tracker of this.trackers.values()) tracker.dispose();
  }

  capabilities(): Promise<Capabilities> {
    this.caps ??= this.probeCapabilities().catch((err: unknown) => {
      this.caps = undefined;
      throw err;
    });
    return this.caps;
  }

  async submit(workflow: ApiWorkflow, opts: SubmitOptions = {}): Promise<PromptRun> {
    const extraData: Record<string, unknown> = { ...opts.extraData };
    if (opts.previewMethod) extraData.preview_method = opts.previewMethod;
    this.submitting += 1;
    try {
      const result = await this.http.postPrompt({
        prompt: workflow,
        client_id: this.clientId,
        prompt_id: opts.promptId ?? randomUUID(),
        extra_data: extraData,
        ...(opts.front ? { front: true } : {}),
        ...(opts.partialExecutionTargets ? { partial_execution_targets: opts.partialExecutionTargets } : {}),
      });
      // Old servers ignore our id: the answer's id is the one events carry.
      const run = new PromptRun(result.promptId, result.number, result.nodeErrors);
      this.track(run);
      run.emit({ type: 'queued', promptId: run.promptId, number: run.number });
      this.replayOrphans(run.promptId);
      return run;
    } finally {
      this.submitting -= 1;
      if (this.submitting === 0) this.orphans = [];
    }
  }

  /** Adopts a prompt submitted earlier (e.g. before a bot restart) and reconciles it right away. */
  follow(promptId: string): PromptRun {
    const existing = this.trackers.get(promptId);
    if (existing) return existing.run;
    const run = new PromptRun(promptId, Number.NaN, {});
    const tracker = this.track(run);
    void tracker.reconcile(() => this.http.queue()).catch((err: unknown) => this.reconcileFailed(err));
    return run;
  }

  /**
   * Cancels only this prompt: pending → removed from the queue; running → targeted interrupt (jobs API or
   * `/interrupt {prompt_id}`), or on servers that ignore the id, an interrupt only once `/queue` shows this
   * prompt is the one running.
   */
  async cancel(promptId: string): Promise<CancelResult> {
    const caps = await this.capabilities();
    if (caps.jobsApi) {
      const before = await this.http.queue();
      const cancelled = await this.http.cancelJob(promptId);
      if (!cancelled) return 'not-found';
      if (before.pending.some((item) => item[1] === promptId)) return this.markDequeued(promptId);
      return 'interrupted';
    }
    const state = await this.http.queue();
    if (state.pending.some((item) => item[1] === promptId)) {
      await this.http.deleteFromQueue([promptId]);
      const after = await this.http.queue();
      if (!inQueue(after, promptId)) return this.dequeuedUnlessFinished(promptId);
      // It left pending between the two reads: it is running now.
      if (!after.running.some((item) => item[1] === promptId)) return 'not-found';
    } else if (!state.running.some((item) => item[1] === promptId)) {
      return 'not-found';
    }
    // Running. A server before 0.3.57 ignores prompt_id and interrupts whatever runs; we just confirmed it is ours.
    await this.http.interrupt(promptId);
    return 'interrupted';
  }

  downloadOutputs(outputs: Record<string, NodeOutput>, nodeFilter?: string[]): Promise<OutputFile[]> {
    return downloadOutputs(this.http, outputs, nodeFilter);
  }

  upload(
    bytes: Buffer,
    filename: string,
    opts: { kind?: 'image' | 'mask'; subfolder?: string; overwrite?: boolean; originalRef?: Pick<FileRef, 'filename' | 'subfolder' | 'type'> } = {},
  ): Promise<UploadResult> {
    return this.http.upload(bytes, filename, opts);
  }

  // ---- internals ------------------------------------------------------------------------------------------

  private async probeCapabilities(): Promise<Capabilities> {
    const [stats, featureFlags, jobsApi] = await Promise.all([
      this.http.systemStats(),
      this.http.features(),
      this.http.jobs({ limit: 1 }).then(
        () => true,
        () => false,
      ),
    ]);
    const version = stats.system?.comfyui_version;
    return {
      ...(version !== undefined ? { version } : {}),
      featureFlags,
      targetedInterrupt: jobsApi || versionAtLeast(version, '0.3.57'),
      clientPromptId: jobsApi || versionAtLeast(version, '0.3.45'),
      jobsApi,
      cloud: this.http.cloud,
    };
  }

  private track(run: PromptRun): PromptTracker {
    const tracker = new PromptTracker(run, this.http, this.timing, (err) => this.reconcileFailed(err));
    this.trackers.set(run.promptId, tracker);
    void run.finished.then(() => {
      this.trackers.delete(run.promptId);
      if (this.executing === run.promptId) this.executing = undefined;
    });
    return tracker;
  }

  /**
   * The prompt left the queue: our delete removed it, or it ran in between (a cached prompt ends within
   * milliseconds). Only history tells them apart; a prompt that ran ends from its entry, outputs and all.
   */
  private async dequeuedUnlessFinished(promptId: string): Promise<CancelResult> {
    const entry = await this.http.historyEntry(promptId);
    if (!entry) return this.markDequeued(promptId);
    this.trackers.get(promptId)?.settleWith(entry);
    return 'not-found';
  }

  private markDequeued(promptId: string): CancelResult {
    this.trackers.get(promptId)?.dequeued();
    return 'dequeued';
  }

  private onOpen(): void {
    this.emit('connected');
    if (this.everConnected) this.reconcileAll([...this.trackers.values()]);
    this.everConnected = true;
  }

  private onMessage(message: ServerMessage): void {
    if (message.type === 'status') {
      this.emit('status', message.queueRemaining);
      return;
    }
    if (message.type === 'feature_flags') return;
    if (message.type === 'unknown') return;
    // `executing` replayed after a reconnect and `progress` from old servers may lack a prompt id: they are
    // about the prompt running for this client id.
    const promptId = message.promptId ?? this.executing;
    if (promptId === undefined) return;
    const tracker = this.trackers.get(promptId);
    if (!tracker) {
      this.keepOrphan(promptId, message);
      return;
    }
    if (message.type === 'execution_start' || (message.type === 'executing' && message.node !== null)) this.executing = promptId;
    tracker.handle(message);
  }

  private onFrame(frame: BinaryFrame): void {
    if (frame.kind === 'preview-with-metadata') {
      const promptId = frame.metadata.prompt_id;
      const tracker = promptId ? this.trackers.get(promptId) : undefined;
      if (!tracker) {
        if (promptId) this.keepOrphan(promptId, frame);
        return;
      }
      tracker.touch();
      tracker.run.emit({ type: 'preview', promptId: tracker.promptId, node: frame.metadata.node_id ?? null, mime: frame.mime, bytes: frame.bytes });
      return;
    }
    const tracker = this.executing ? this.trackers.get(this.executing) : undefined;
    if (!tracker) {
      // Type-1 previews and text frames carry no prompt id: keep them in order with the orphans of their run.
      this.keepOrphan(undefined, frame);
      return;
    }
    tracker.touch();
    if (frame.kind === 'preview') {
      tracker.run.emit({ type: 'preview', promptId: tracker.promptId, node: null, mime: frame.mime, bytes: frame.bytes });
    } else if (frame.kind === 'text') {
      tracker.run.emit({ type: 'text', promptId: tracker.promptId, node: frame.nodeId, text: frame.text });
    }
  }

  private keepOrphan(promptId: string | undefined, item: ServerMessage | BinaryFrame): void {
    if (this.submitting === 0) return;
    if (this.orphans.length >= MAX_ORPHANS) this.orphans.shift();
    this.orphans.push({ promptId, item });
  }

  private replayOrphans(promptId: string): void {
    const mine = this.orphans.filter((o) => o.promptId === promptId || o.promptId === undefined);
    this.orphans = this.orphans.filter((o) => o.promptId !== promptId && o.promptId !== undefined);
    for (const { item } of mine) {
      if ('kind' in item) this.onFrame(item);
      else this.onMessage(item);
    }
  }

  private checkStalls(): void {
    const now = this.timing.now();
    const stalled = [...this.trackers.values()].filter((t) => now - t.lastFrameAt >= this.stallMs);
    if (stalled.length === 0) return;
    for (const t of stalled) t.touch();
    this.reconcileAll(stalled);
  }

  /** One `/queue` read for the whole round, fetched only if some prompt is missing from history. */
  private reconcileAll(trackers: PromptTracker[]): void {
    if (trackers.length === 0) return;
    let snapshot: Promise<QueueState> | undefined;
    const queue = () => (snapshot ??= this.http.queue());
    for (const tracker of trackers) {
      void tracker.reconcile(queue).catch((err: unknown) => this.reconcileFailed(err));
    }
  }

  private reconcileFailed(err: unknown): void {
    // The next stall check or reconnect retries; a run never ends on a transient HTTP failure.
    this.logger.warn({ err: err instanceof Error ? err.message : String(err) }, 'reconciliation failed');
  }
}

const MAX_ORPHANS = 500;

function inQueue(state: QueueState, promptId: string): boolean {
  return state.running.some((item) => item[1] === promptId) || state.pending.some((item) => item[1] === promptId);
}
