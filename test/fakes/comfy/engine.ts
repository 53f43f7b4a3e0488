// The fake ComfyUI's queue, worker and history: runs accepted prompts node by node and emits the exact
// WebSocket message sequences of a real 0.3.64 server (see protocol-notes §3.5 and the transcripts).
import { EventEmitter } from 'node:events';
import type { Gate } from './gate.js';
import { batchSize, executionOrder, imageSize, signaturesOf } from './graph.js';
import { MinHeap } from './heap.js';
import { pngImage, samplerPreview } from './media.js';
import type { ObjectInfo } from './object-info.js';
import type { ResolvedOptions } from './options.js';
import { writeOutputs, type NodeOutput } from './outputs.js';
import { RunMessenger } from './run-messages.js';
import type { SocketHub } from './socket-hub.js';
import type { Storage } from './storage.js';
import { isLink, type Prompt } from './validate.js';

export interface QueueItem {
  number: number;
  promptId: string;
  prompt: Prompt;
  extraData: Record<string, unknown>;
  outputs: string[];
  /** Insertion order: breaks ties between equal numbers like the heap's counter. */
  seq: number;
  createTime: number;
}

export type QueueTuple = [number, string, Prompt, Record<string, unknown>, string[]];

export interface HistoryEntry {
  prompt: QueueTuple;
  outputs: Record<string, NodeOutput>;
  status: { status_str: 'success' | 'error'; completed: boolean; messages: [string, Record<string, unknown>][] };
  meta: Record<string, { node_id: string; display_node: string; parent_node: null; real_node_id: string }>;
}

export type PromptOutcome = 'success' | 'error' | 'interrupted';

/** Timing of a finished prompt, for the jobs API. */
export interface JobRecord {
  createTime: number;
  startTime?: number;
  endTime?: number;
  outcome?: PromptOutcome;
}

export interface EngineFaults {
  /** History is written only after a client has seen it missing (or after a short while), see `waitForHistoryLookup`. */
  delayHistoryWrite: boolean;
  /** class_type → message: the next node of that class raises this at run time (once). */
  nodeFailures: Map<string, string>;
  /** class_type → message: the next node of that class returns an ExecutionBlocker (once). */
  nodeBlocks: Map<string, string>;
}

class Interrupted extends Error {
  constructor(readonly nodeId: string) {
    super(`interrupted at node ${nodeId}`);
  }
}

class NodeFailure extends Error {
  constructor(
    readonly nodeId: string,
    readonly error: Error,
    readonly exceptionType = 'Exception',
  ) {
    super(error.message);
  }
}

/** Thrown inside a run abandoned by restart()/close(): the "process" it belonged to is gone. */
class Abandoned extends Error {}

const SAVE_TRACEBACK = [
  '  File "/home/user/ComfyUI/execution.py", line 496, in execute\n    output_data, output_ui, has_subgraph, has_pending_tasks = await get_output_data(prompt_id, unique_id, obj, input_data_all, execution_block_cb=execution_block_cb, pre_execute_cb=pre_execute_cb, hidden_inputs=hidden_inputs)\n',
  '  File "/home/user/ComfyUI/execution.py", line 315, in get_output_data\n    return_values = await _async_map_node_over_list(prompt_id, unique_id, obj, input_data_all, obj.FUNCTION, allow_interrupt=True, execution_block_cb=execution_block_cb, pre_execute_cb=pre_execute_cb, hidden_inputs=hidden_inputs)\n',
  '  File "/home/user/ComfyUI/execution.py", line 277, in process_inputs\n    result = f(**inputs)\n',
];


export interface EngineDeps {
  options: ResolvedOptions;
  info: () => ObjectInfo;
  hub: SocketHub;
  storage: Storage;
  gate: Gate;
  events: EventEmitter;
  faults: EngineFaults;
}

export class Engine {
  private readonly pending = new MinHeap<QueueItem>((a, b) => a.number < b.number || (a.number === b.number && a.seq < b.seq));
  /** `interrupted`: wakes a run waiting at the test's gate, so an interrupt is not held back by it. */
  private running: { item: QueueItem; node: string | undefined; interrupt: boolean; interrupted?: () => void } | undefined;
  readonly history = new Map<string, HistoryEntry>();
  readonly jobs = new Map<string, JobRecord>();
  /** Node signature → its UI output (null = no UI output): ComfyUI's output cache. */
  private readonly cache = new Map<string, NodeOutput | null>();
  private counter = 0;
  private seq = 0;
  private stopped = false;
  private working = false;
  /** Prompt ids whose history write waits for a client to look (delayHistoryWrite fault). */
  private readonly historyWaiters = new Map<string, () => void>();

  constructor(private readonly deps: EngineDeps) {}

  /** The next automatic `number`; ComfyUI advances it for every submit that carries no explicit number. */
  nextNumber(): number {
    return this.counter++;
  }

  get queueRemaining(): number {
    return this.pending.items.length + (this.running ? 1 : 0);
  }

  get runningItem(): QueueItem | undefined {
    return this.running?.item;
  }

  /** In heap order, like ComfyUI's `queue_pending` (not sorted). */
  get pendingItems(): readonly QueueItem[] {
    return this.pending.items;
  }

  runningNodeFor(clientId: string): string | undefined {
    return this.running?.item.extraData['client_id'] === clientId ? this.running.node : undefined;
  }

  enqueue(item: Omit<QueueItem, 'seq' | 'createTime'>): void {
    const full: QueueItem = { ...item, seq: this.seq++, createTime: Date.now() };
    this.pending.push(full);
    this.jobs.set(full.promptId, { createTime: full.createTime });
    this.broadcastStatus();
    this.deps.events.emit('prompt-queued', full.promptId);
    queueMicrotask(() => void this.work());
  }

  /** `POST /queue {delete}`: pending items only. */
  delete(ids: readonly string[]): void {
    for (const id of ids) {
      if (this.pending.remove((item) => item.promptId === id).length === 0) continue;
      this.jobs.delete(id);
      this.broadcastStatus();
    }
  }

  clearPending(): void {
    for (const item of this.pending.remove(() => true)) this.jobs.delete(item.promptId);
    this.broadcastStatus();
  }

  /** Bare = whatever runs; with an id = only if that prompt runs. Returns whether something was interrupted. */
  interrupt(promptId?: string): boolean {
    if (!this.running) return false;
    if (promptId !== undefined && this.running.item.promptId !== promptId) return false;
    this.running.interrupt = true;
    this.running.interrupted?.();
    return true;
  }

  /** The jobs-API cancel: dequeue a pending prompt or interrupt the running one, atomically. */
  cancel(promptId: string): boolean {
    if (this.pending.items.some((item) => item.promptId === promptId)) {
      this.delete([promptId]);
      return true;
    }
    return this.interrupt(promptId);
  }

  /** Release a history write held by the delayHistoryWrite fault, once a client has seen `{}`. */
  historyLookedUp(promptId: string | undefined): void {
    if (promptId === undefined) {
      for (const release of this.historyWaiters.values()) release();
    } else {
      this.historyWaiters.get(promptId)?.();
    }
  }

  /** Stop for good: the queue, history and cache die with the "process". */
  stop(): void {
    this.stopped = true;
    for (const release of this.historyWaiters.values()) release();
  }

  private broadcastStatus(): void {
    this.deps.hub.send({ type: 'status', data: { status: { exec_info: { queue_remaining: this.queueRemaining } } } }, undefined);
  }

  private takeNext(): QueueItem | undefined {
    return this.pending.pop();
  }

  private async work(): Promise<void> {
    if (this.working || this.stopped) return;
    this.working = true;
    try {
      for (let item = this.takeNext(); item && !this.stopped; item = this.takeNext()) {
        this.running = { item, node: undefined, interrupt: false };
        this.broadcastStatus();
        try {
          await this.execute(item);
        } catch (error) {
          if (!(error instanceof Abandoned)) throw error;
        }
        this.running = undefined;
      }
    } finally {
      this.working = false;
    }
  }

  private check(): void {
    if (this.stopped) throw new Abandoned();
  }

  private async execute(item: QueueItem): Promise<void> {
    const { hub, events, options } = this.deps;
    const sid = typeof item.extraData['client_id'] === 'string' ? item.extraData['client_id'] : undefined;
    const promptId = item.promptId;
    const record = this.jobs.get(promptId) ?? { createTime: item.createTime };
    this.jobs.set(promptId, record);
    record.startTime = Date.now();

    const run = new RunMessenger(hub, promptId, sid, {
      progressState: options.profile !== 'legacy',
      previewMetadata: options.profile !== 'legacy' && hub.wantsPreviewMetadata(sid),
    });
    // [new] servers take a per-prompt override of --preview-method
    const override = options.profile === 'new' || options.profile === 'cloud' ? item.extraData['preview_method'] : undefined;
    const previews = typeof override === 'string' && override !== 'default' ? override !== 'none' : options.previewMethod === 'auto';

    run.add('execution_start', { prompt_id: promptId });
    const order = executionOrder(item.prompt, item.outputs, (id) => this.deps.info()[item.prompt[id]!.class_type]?.output_node === true);
    const signatures = signaturesOf(item.prompt);
    const cached = order.filter((id) => this.cache.has(signatures.get(id)!));
    run.add('execution_cached', { nodes: cached, prompt_id: promptId });

    const outputs: Record<string, NodeOutput> = {};
    const executed: string[] = [];
    /** Nodes whose result is an ExecutionBlocker: everything downstream of them is skipped. */
    const blocked = new Set<string>();
    let outcome: PromptOutcome = 'success';
    try {
      for (const id of order) {
        const node = item.prompt[id]!;
        const signature = signatures.get(id)!;
        if (this.cache.has(signature)) {
          const ui = this.cache.get(signature);
          if (ui) {
            outputs[id] = ui;
            run.toOwner('executed', { node: id, display_node: id, output: ui, prompt_id: promptId });
            run.progressState(id, 1, 1, 'finished');
          }
          continue;
        }
        if (Object.values(node.inputs).some((value) => isLink(value) && blocked.has(value[0]))) {
          blocked.add(id);
          continue;
        }
        await this.passGate();
        this.check();
        this.running!.node = id;
        run.progressState(id, 0, 1, 'running');
        run.toOwner('executing', { node: id, display_node: id, prompt_id: promptId });
        events.emit('node-start', promptId, id);
        if (this.running!.interrupt) throw new Interrupted(id);
        await this.pause();

        if (this.deps.info()[node.class_type]?.input.required?.['steps'] !== undefined) {
          await this.sample(run, id, node.inputs['steps'], previews);
        }
        if (node.class_type === 'SaveImageWebsocket') await this.streamImages(run, item.prompt, id, signature);
        const blockMessage = takeOnce(this.deps.faults.nodeBlocks, node.class_type);
        if (blockMessage !== undefined) {
          run.blocked(id, node.class_type, [...executed].reverse(), blockMessage);
          blocked.add(id);
          run.progressState(id, 1, 1, 'finished');
          executed.push(id);
          continue;
        }
        const injected = takeOnce(this.deps.faults.nodeFailures, node.class_type);
        if (injected !== undefined) throw new NodeFailure(id, new Error(injected), 'RuntimeError');
        let ui: NodeOutput | undefined;
        try {
          ui = await writeOutputs(this.deps.storage, {
            classType: node.class_type,
            inputs: node.inputs,
            ...imageSize(item.prompt, id, this.deps.storage),
            batch: batchSize(item.prompt, id),
            seed: signature,
            pngCompressionLevel: this.deps.options.pngCompressionLevel,
          });
        } catch (error) {
          throw new NodeFailure(id, error as Error);
        }
        this.check();
        if (ui) {
          outputs[id] = ui;
          run.toOwner('executed', { node: id, display_node: id, output: ui, prompt_id: promptId });
        }
        run.progressState(id, 1, 1, 'finished');
        this.cache.set(signature, ui ?? null);
        executed.push(id);
      }
      run.add('execution_success', { prompt_id: promptId });
    } catch (error) {
      if (error instanceof Interrupted) {
        outcome = 'interrupted';
        run.add('execution_interrupted', {
          prompt_id: promptId, node_id: error.nodeId, node_type: item.prompt[error.nodeId]!.class_type, executed: [...executed].reverse(),
        }, true);
      } else if (error instanceof NodeFailure) {
        outcome = 'error';
        const node = item.prompt[error.nodeId]!;
        run.add('execution_error', {
          prompt_id: promptId, node_id: error.nodeId, node_type: node.class_type, executed: [...executed].reverse(),
          exception_message: error.error.message, exception_type: error.exceptionType, traceback: SAVE_TRACEBACK,
          current_inputs: currentInputs(node.inputs), current_outputs: [...executed],
        });
      } else {
        throw error;
      }
    }

    if (this.deps.faults.delayHistoryWrite) await this.waitForHistoryLookup(promptId);
    this.check();
    this.writeHistory(item, outputs, run.messages, outcome);
    record.endTime = Date.now();
    record.outcome = outcome;
    this.running = undefined;
    this.broadcastStatus();
    run.toOwner('executing', { node: null, prompt_id: promptId });
    events.emit('prompt-done', promptId, outcome);
  }

  /**
   * The test's gate (hold/release) before a node or a step. A held run still sees an interrupt at once, as real
   * ComfyUI checks for one while a node works: the gate freezes progress, not the server's answer to a cancel.
   */
  private async passGate(): Promise<void> {
    const running = this.running!;
    if (!this.deps.gate.held || running.interrupt) return;
    await Promise.race([this.deps.gate.passed(), new Promise<void>((resolve) => (running.interrupted = resolve))]);
    delete running.interrupted;
  }

  /** A sampler: one progress tick (and preview) per step; interrupts take effect between steps. */
  private async sample(run: RunMessenger, id: string, stepsInput: unknown, previews: boolean): Promise<void> {
    const { samplerSteps } = this.deps.options;
    const steps = samplerSteps === 'from-workflow' ? Math.max(1, Math.trunc(Number(stepsInput)) || 1) : samplerSteps;
    for (let step = 1; step <= steps; step++) {
      await this.passGate();
      this.check();
      if (this.running!.interrupt) throw new Interrupted(id);
      await this.pause();
      run.progressState(id, step, steps, 'running');
      if (previews) run.preview(id, step, steps, 'jpeg', await samplerPreview());
      else run.progress(id, step, steps);
      this.deps.events.emit('step', run.promptId, id, step, steps);
    }
  }

  /** SaveImageWebsocket: every image of the batch as a PNG preview frame, no UI output. */
  private async streamImages(run: RunMessenger, prompt: Prompt, id: string, signature: string): Promise<void> {
    const { width, height } = imageSize(prompt, id, this.deps.storage);
    const count = batchSize(prompt, id);
    for (let i = 0; i < count; i++) {
      run.progressState(id, i, count, 'running');
      run.preview(id, i, count, 'png', await pngImage(width, height, `${signature}#${i}`));
    }
  }

  private async pause(): Promise<void> {
    const ms = this.deps.options.stepDelayMs;
    // the global setTimeout, so tests can drive stepDelayMs with vi.useFakeTimers
    if (ms > 0) await new Promise((resolve) => setTimeout(resolve, ms));
    this.check();
  }

  /**
   * The ordering race of protocol-notes §8.2, made deterministic: the write waits until someone has asked
   * for this prompt's history (and got `{}`), or 250 ms passed, whichever is first.
   */
  private waitForHistoryLookup(promptId: string): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, 250);
      function done(): void {
        clearTimeout(timer);
        resolve();
      }
      this.historyWaiters.set(promptId, () => {
        this.historyWaiters.delete(promptId);
        setImmediate(done);
      });
    });
  }

  private writeHistory(item: QueueItem, outputs: Record<string, NodeOutput>, messages: [string, Record<string, unknown>][], outcome: PromptOutcome): void {
    this.history.set(item.promptId, {
      prompt: [item.number, item.promptId, item.prompt, item.extraData, item.outputs],
      outputs,
      status: { status_str: outcome === 'success' ? 'success' : 'error', completed: outcome === 'success', messages },
      meta: Object.fromEntries(
        Object.keys(outputs).map((id) => [id, { node_id: id, display_node: id, parent_node: null, real_node_id: id }]),
      ),
    });
    while (this.history.size > this.deps.options.maxHistory) this.history.delete(this.history.keys().next().value!);
  }
}

/** A one-shot fault: read and forget. */
function takeOnce(faults: Map<string, string>, classType: string): string | undefined {
  const value = faults.get(classType);
  faults.delete(classType);
  return value;
}

/** `current_inputs` of execution_error: every input as a list of stringified values. */
function currentInputs(inputs: Record<string, unknown>): Record<string, string[]> {
  return Object.fromEntries(
    Object.entries(inputs).map(([name, value]) => [name, [isLink(value) ? 'tensor([[[[0.5000, 0.5000, 0.5000]]]])' : String(value)]]),
  );
}
