// Follows one prompt: turns socket messages into PromptEvents, and settles the run from /history and /queue
// when the socket cannot be trusted (reconnects, stalls, success announced before history was written).
import type { ComfyHttp, HistoryEntry, QueueState } from './http.js';
import { executionFailure, type ServerMessage } from './messages.js';
import type { PromptRun } from './prompt.js';
import type { ExecutionFailure, NodeOutput, ServerTiming } from './types.js';

/** The terminal messages of a prompt's history entry, each stamped by the server when it was added. */
const TERMINAL_MESSAGES = new Set(['execution_success', 'execution_error', 'execution_interrupted']);

/**
 * The execution time by the server's clock, from the history entry's `execution_start` to its last terminal
 * message: right even when the prompt ended while nobody was listening (the bot down), which the bot's own
 * clock would count in full.
 */
function serverTiming(messages: readonly [string, Record<string, unknown>][]): ServerTiming {
  const stamp = (data: Record<string, unknown>) => (typeof data.timestamp === 'number' && Number.isFinite(data.timestamp) ? data.timestamp : undefined);
  const start = messages.find(([name]) => name === 'execution_start');
  const end = messages.findLast(([name, data]) => TERMINAL_MESSAGES.has(name) && data.exception_type !== 'ExecutionBlocked');
  const from = start && stamp(start[1]);
  const until = end && stamp(end[1]);
  return from === undefined || until === undefined ? {} : { executionMs: Math.max(0, until - from) };
}

export interface TrackerTiming {
  /** How long to wait for `executing{node:null}` after `execution_success` before reading history anyway. */
  successGraceMs: number;
  /** Delays between history reads when an entry is expected but not written yet. */
  historyRetryMs: number[];
  now: () => number;
}

/** A `/queue` snapshot shared by every tracker in one reconciliation round (one request, not one per job). */
export type QueueSnapshot = () => Promise<QueueState>;

export class PromptTracker {
  lastFrameAt: number;
  private started = false;
  private successSeen = false;
  /** The server's stamps of `execution_start` and `execution_success`, when the socket carried them. */
  private startStamp: number | undefined;
  private successStamp: number | undefined;
  /** Some node was taken from the cache: its outputs may be only in the history entry (older servers). */
  private cachedAny = false;
  /** The run was reconciled (a reconnect, a stall, an adoption): the socket may have missed some of its messages. */
  private socketGap = false;
  private blocked: ExecutionFailure | undefined;
  private readonly outputs: Record<string, NodeOutput> = {};
  private graceTimer: NodeJS.Timeout | undefined;
  private settling: Promise<void> | undefined;

  constructor(
    readonly run: PromptRun,
    private readonly http: ComfyHttp,
    private readonly timing: TrackerTiming,
    private readonly onError: (err: unknown) => void,
  ) {
    this.lastFrameAt = timing.now();
  }

  get promptId(): string {
    return this.run.promptId;
  }

  /** A message already known to be about this prompt. */
  handle(message: ServerMessage): void {
    if (this.run.ended) return;
    this.lastFrameAt = this.timing.now();
    const promptId = this.promptId;
    switch (message.type) {
      case 'execution_start':
        this.startStamp = message.timestamp;
        this.markStarted();
        return;
      case 'execution_cached':
        this.markStarted();
        if (message.nodes.length > 0) {
          this.cachedAny = true;
          this.run.emit({ type: 'cached', promptId, nodes: message.nodes });
        }
        return;
      case 'executing':
        if (message.node === null) {
          // Sent after the history entry is written: the authoritative end of the prompt.
          this.settle();
          return;
        }
        this.markStarted();
        this.run.emit({ type: 'node', promptId, node: message.node, ...(message.displayNode ? { displayNode: message.displayNode } : {}) });
        return;
      case 'progress':
        this.run.emit({ type: 'progress', promptId, node: message.node, value: message.value, max: message.max });
        return;
      case 'executed':
        if (message.output) {
          this.outputs[message.node] = message.output;
          this.run.emit({ type: 'output', promptId, node: message.node, output: message.output });
        }
        return;
      case 'execution_success':
        this.successSeen = true;
        this.successStamp = message.timestamp;
        clearTimeout(this.graceTimer);
        this.graceTimer = setTimeout(() => this.settle(), this.timing.successGraceMs);
        return;
      case 'execution_error':
        if (message.blocked) {
          // A blocked node does not end the prompt: other branches may still succeed.
          this.blocked = message.failure;
          return;
        }
        this.finish({ type: 'failed', promptId, reason: { kind: 'execution', failure: message.failure } });
        return;
      case 'execution_interrupted':
        this.finish({ type: 'interrupted', promptId });
        return;
      default:
        return;
    }
  }

  touch(): void {
    this.lastFrameAt = this.timing.now();
  }

  /**
   * Ends the run from what the socket told us when that is the whole story, else from the history entry (retrying
   * briefly), falling back to what the socket told us.
   */
  settle(): void {
    clearTimeout(this.graceTimer);
    const told = this.toldBySocket();
    if (told) return this.finishDone({}, told);
    this.settling ??= this.readHistory(this.timing.historyRetryMs)
      .then((entry) => {
        if (entry) return this.settleFromEntry(entry);
        if (this.blocked) return this.finishFailed(this.blocked);
        if (this.successSeen) return this.finishDone({});
        // `executing{node:null}` with no entry after retries: ask the queue before declaring anything.
        return this.reconcile(() => this.http.queue());
      })
      .catch(this.onError)
      .finally(() => {
        this.settling = undefined;
      });
  }

  /**
   * Where is the prompt now? History first; then the queue; then history once more, because the prompt may
   * finish between the two reads. In neither place after that, it is lost (a restarted server forgets both).
   */
  async reconcile(queue: QueueSnapshot): Promise<void> {
    if (this.run.ended) return;
    this.socketGap = true;
    const entry = await this.http.historyEntry(this.promptId);
    if (entry) return this.settleFromEntry(entry);
    const state = await queue();
    const running = state.running.find((item) => item[1] === this.promptId);
    const queued = running ?? state.pending.find((item) => item[1] === this.promptId);
    if (queued) {
      this.run.learnNumber(queued[0]);
      if (running) this.markStarted();
      return;
    }
    const late = await this.http.historyEntry(this.promptId);
    if (late) return this.settleFromEntry(late);
    this.finish({
      type: 'failed',
      promptId: this.promptId,
      reason: { kind: 'lost', message: `prompt ${this.promptId} is in neither the queue nor the history of ${this.http.name} (server restarted?)` },
    });
  }

  /** Ends the run from a history entry someone else read (a cancel that found the prompt already finished). */
  settleWith(entry: HistoryEntry): void {
    if (this.run.ended) return;
    this.settleFromEntry(entry);
  }

  /** Ends the run as the result of a cancel that removed it before it ran. */
  dequeued(): void {
    this.finish({ type: 'interrupted', promptId: this.promptId });
  }

  dispose(): void {
    clearTimeout(this.graceTimer);
  }

  /**
   * The server timing of a run the socket followed from its start to its success without a gap (no reconnect or
   * stall since), with every node executed (none cached) and none blocked: then each output node sent its `executed` message, which carries the same outputs
   * as the history entry, and the two stamps are the entry's own. The history read would only repeat it: one
   * request and the parse of an entry that holds the whole workflow, per job. Undefined when history must decide.
   */
  private toldBySocket(): ServerTiming | undefined {
    if (!this.successSeen || this.cachedAny || this.blocked || this.socketGap || Number.isNaN(this.run.number)) return undefined;
    if (this.startStamp === undefined || this.successStamp === undefined) return undefined;
    return { executionMs: Math.max(0, this.successStamp - this.startStamp) };
  }

  private markStarted(): void {
    if (this.started) return;
    this.started = true;
    this.run.emit({ type: 'started', promptId: this.promptId });
  }

  private async readHistory(retryMs: number[]): Promise<HistoryEntry | undefined> {
    let entry = await this.http.historyEntry(this.promptId);
    for (const delay of retryMs) {
      if (entry || this.run.ended) break;
      await new Promise((resolve) => setTimeout(resolve, delay));
      entry = await this.http.historyEntry(this.promptId);
    }
    return entry;
  }

  private settleFromEntry(entry: HistoryEntry): void {
    if (Array.isArray(entry.prompt)) this.run.learnNumber(entry.prompt[0]);
    const messages = entry.status?.messages ?? [];
    const timing = serverTiming(messages);
    const interrupted = messages.find(([name]) => name === 'execution_interrupted');
    const errors = messages.filter(([name, data]) => name === 'execution_error' && data.exception_type !== 'ExecutionBlocked');
    const error = errors.at(-1);
    if (entry.status?.status_str === 'error' || interrupted || error) {
      if (interrupted) return this.finish({ type: 'interrupted', promptId: this.promptId, ...timing });
      if (error) return this.finishFailed(executionFailure(error[1]), timing);
      const blocked = messages.find(([name]) => name === 'execution_error');
      return this.finishFailed(
        blocked ? executionFailure(blocked[1]) : { nodeId: null, nodeType: null, exceptionType: 'Error', exceptionMessage: 'the server reported an error', traceback: [] },
        timing,
      );
    }
    this.finishDone(entry.outputs ?? {}, timing);
  }

  private finishDone(historyOutputs: Record<string, NodeOutput>, timing: ServerTiming = {}): void {
    const outputs = { ...this.outputs };
    for (const [node, output] of Object.entries(historyOutputs)) {
      if (!outputs[node]) this.run.emit({ type: 'output', promptId: this.promptId, node, output });
      outputs[node] = { ...outputs[node], ...output };
    }
    this.finish({ type: 'done', promptId: this.promptId, outputs, ...timing });
  }

  private finishFailed(failure: ExecutionFailure, timing: ServerTiming = {}): void {
    this.finish({ type: 'failed', promptId: this.promptId, reason: { kind: 'execution', failure }, ...timing });
  }

  private finish(event: Parameters<PromptRun['emit']>[0]): void {
    this.dispose();
    this.run.emit(event);
  }
}
