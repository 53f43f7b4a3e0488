// A scripted Backend for scheduler tests: each run is held until the test moves it, and cancel follows
// ComfyUI's rules (pending → dequeued, running → interrupted, ended → not-found).
import { EventEmitter } from 'node:events';
import type { OutputFile } from '../../src/comfy/types.js';
import type { JobSpec } from '../../src/jobs/job.js';
import type { Backend, BackendEvents, BackendRun, CancelResult, RunEvent, RunOutcome } from '../../src/scheduler/backend.js';
import type { Inventory } from '../../src/scheduler/requirements.js';

export class ScriptedRun implements BackendRun {
  readonly finished: Promise<RunOutcome>;
  phase: 'pending' | 'running' | 'ended' = 'pending';
  /** Settles when the scheduler subscribed (it is following the run). */
  readonly attached: Promise<void>;
  private resolve!: (o: RunOutcome) => void;
  private onAttach!: () => void;
  private readonly listeners = new Set<(e: RunEvent) => void>();

  constructor(
    readonly backend: BackendDouble,
    readonly spec: JobSpec,
    readonly promptId: string,
    /** The job's state when run() was called. */
    readonly stateAtSubmit: string | undefined,
  ) {
    this.finished = new Promise((r) => (this.resolve = r));
    this.attached = new Promise((r) => (this.onAttach = r));
  }

  subscribe(listener: (e: RunEvent) => void): () => void {
    this.listeners.add(listener);
    this.onAttach();
    return () => this.listeners.delete(listener);
  }

  emit(event: RunEvent): void {
    if (event.type === 'started') this.phase = 'running';
    for (const l of this.listeners) l(event);
  }

  start(): void {
    this.emit({ type: 'started' });
  }

  end(outcome: RunOutcome): void {
    if (this.phase === 'ended') return;
    this.phase = 'ended';
    this.resolve(outcome);
  }

  succeed(outputs: OutputFile[] = [output(this.promptId)]): void {
    this.end({ type: 'done', outputs });
  }
}

export function output(name: string): OutputFile {
  return { node: '9', ref: { filename: `${name}.png`, subfolder: '', type: 'output' }, kind: 'images', mime: 'image/png', bytes: Buffer.from(name) };
}

type RunScript = (spec: JobSpec, promptId: string) => Promise<void>;

export class BackendDouble extends EventEmitter<BackendEvents> implements Backend {
  healthy = true;
  inventory: Inventory | undefined;
  readonly runs: ScriptedRun[] = [];
  readonly cancels: string[] = [];
  /** Runs before run() resolves: reject to simulate a refused or failed submit, or hold to delay it. */
  beforeSubmit: RunScript = async () => undefined;
  private waiters: (() => void)[] = [];

  constructor(
    readonly name: string,
    opts: {
      capacity?: number;
      weight?: number;
      nodes?: string[];
      models?: string[];
      /** Model folder → its files in listing order (their files count as models too). */
      folders?: Record<string, string[]>;
      jobState?: (id: string) => string | undefined;
    } = {},
  ) {
    super();
    this.capacity = opts.capacity ?? 1;
    this.weight = opts.weight ?? 1;
    const folders = Object.entries(opts.folders ?? {});
    this.inventory = {
      nodeClasses: new Set(opts.nodes ?? ['KSampler', 'SaveImage', 'CheckpointLoaderSimple', 'LoadImage']),
      models: new Set([...(opts.models ?? []), ...folders.flatMap(([, files]) => files)]),
      folders: new Map(folders),
    };
    this.jobState = opts.jobState;
  }

  readonly capacity: number;
  readonly weight: number;
  jobState: ((id: string) => string | undefined) | undefined;

  async run(spec: JobSpec, promptId: string): Promise<BackendRun> {
    const run = new ScriptedRun(this, spec, promptId, this.jobState?.(spec.id!));
    await this.beforeSubmit(spec, promptId);
    this.runs.push(run);
    for (const w of this.waiters.splice(0)) w();
    return run;
  }

  follow(spec: JobSpec, promptId: string): BackendRun {
    const run = new ScriptedRun(this, spec, promptId, 'adopted');
    run.phase = 'running';
    this.runs.push(run);
    for (const w of this.waiters.splice(0)) w();
    return run;
  }

  async cancel(promptId: string): Promise<CancelResult> {
    this.cancels.push(promptId);
    const run = this.runs.find((r) => r.promptId === promptId);
    if (!run || run.phase === 'ended') return 'not-found';
    if (run.phase === 'pending') {
      run.end({ type: 'interrupted' });
      return 'dequeued';
    }
    queueMicrotask(() => run.end({ type: 'interrupted' }));
    return 'interrupted';
  }

  /** The index-th run submitted here, once submitted (the scheduler may not follow it yet). */
  async submitted(index: number): Promise<ScriptedRun> {
    while (this.runs.length <= index) await new Promise<void>((resolve) => this.waiters.push(resolve));
    return this.runs[index]!;
  }

  /** The index-th run, once the scheduler follows it. */
  async running(index: number): Promise<ScriptedRun> {
    const run = await this.submitted(index);
    await run.attached;
    return run;
  }

  setHealthy(healthy: boolean): void {
    this.healthy = healthy;
    this.emit('health', healthy);
  }

  setInventory(inventory: Inventory): void {
    this.inventory = inventory;
    this.emit('inventory');
  }
}
