// The system under test runs in its own Node process, so its CPU time, memory and event-loop delay are its own
// and not the fakes'. Parent and child talk over Node's IPC channel: calls with replies, plus events from the child.
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

type Message =
  | { kind: 'call'; id: number; method: string; params: unknown }
  | { kind: 'reply'; id: number; ok: true; value: unknown }
  | { kind: 'reply'; id: number; ok: false; error: string }
  | { kind: 'event'; name: string; body: unknown };

const REPO_ROOT = fileURLToPath(new URL('..', import.meta.url));

export class ChildError extends Error {
  override name = 'ChildError';
}

export class Child {
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  private readonly listeners = new Map<string, ((body: unknown) => void)[]>();
  private exited: string | null = null;

  private constructor(
    readonly label: string,
    private readonly process: ChildProcess,
  ) {
    process.on('message', (raw) => this.onMessage(raw as Message));
    process.on('exit', (code, signal) => {
      this.exited = `${label} exited (${signal ?? `code ${code}`})`;
      for (const p of this.pending.values()) p.reject(new ChildError(this.exited));
      this.pending.clear();
    });
  }

  /** Starts `bench/<script>` under tsx (plus BENCH_CHILD_NODE_FLAGS, if set). */
  static start(script: string, label = script): Child {
    const child = fork(fileURLToPath(new URL(script, import.meta.url)), [], {
      cwd: REPO_ROOT,
      // e.g. BENCH_CHILD_NODE_FLAGS=--cpu-prof to profile the system under test
      execArgv: ['--import', 'tsx', ...(process.env['BENCH_CHILD_NODE_FLAGS']?.split(' ').filter(Boolean) ?? [])],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    return new Child(label, child);
  }

  get pid(): number | undefined {
    return this.process.pid;
  }

  call<T>(method: string, params: unknown = {}, timeoutMs = 60_000): Promise<T> {
    if (this.exited) return Promise.reject(new ChildError(`${this.exited}; cannot call ${method}`));
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new ChildError(`${this.label}: ${method} got no answer within ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.set(id, {
        resolve: (v) => {
          clearTimeout(timer);
          resolve(v as T);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      });
      this.process.send({ kind: 'call', id, method, params } satisfies Message);
    });
  }

  on(name: string, listener: (body: unknown) => void): void {
    this.listeners.set(name, [...(this.listeners.get(name) ?? []), listener]);
  }

  /** Asks the child to exit, and kills it (this process only) if it has not within `graceMs`. */
  async stop(graceMs = 5000): Promise<void> {
    if (this.exited) return;
    const exited = new Promise<void>((resolve) => this.process.once('exit', () => resolve()));
    this.process.disconnect();
    const timer = setTimeout(() => this.process.kill('SIGKILL'), graceMs);
    await exited;
    clearTimeout(timer);
  }

  private onMessage(message: Message): void {
    if (message.kind === 'event') {
      for (const l of this.listeners.get(message.name) ?? []) l(message.body);
      return;
    }
    if (message.kind !== 'reply') return;
    const waiting = this.pending.get(message.id);
    if (!waiting) return;
    this.pending.delete(message.id);
    if (message.ok) waiting.resolve(message.value);
    else waiting.reject(new ChildError(`${this.label}: ${message.error}`));
  }
}

export type Handlers = Record<string, (params: never) => Promise<unknown> | unknown>;

/** In the child: answers calls with `handlers`; the child exits when the parent disconnects. */
export function serve(handlers: Handlers, onDisconnect: () => Promise<void> = async () => undefined): void {
  if (!process.send) throw new Error('this module is a bench child process; start it through bench/ipc.ts');
  process.on('message', (raw) => {
    const message = raw as Message;
    if (message.kind !== 'call') return;
    const handler = handlers[message.method];
    const reply = (m: Message) => process.connected && process.send!(m);
    if (!handler) {
      reply({ kind: 'reply', id: message.id, ok: false, error: `unknown method ${message.method}` });
      return;
    }
    Promise.resolve()
      .then(() => (handler as (p: unknown) => unknown)(message.params))
      .then(
        (value) => reply({ kind: 'reply', id: message.id, ok: true, value }),
        (error: unknown) => reply({ kind: 'reply', id: message.id, ok: false, error: error instanceof Error ? (error.stack ?? error.message) : String(error) }),
      );
  });
  process.on('disconnect', () => {
    void onDisconnect().finally(() => process.exit(0));
  });
}

export function emit(name: string, body: unknown): void {
  if (process.connected) process.send!({ kind: 'event', name, body } satisfies Message);
}

/** Epoch milliseconds with sub-millisecond precision, comparable between the bench's processes. */
export function now(): number {
  return performance.timeOrigin + performance.now();
}

/** What every child reports about itself. */
export interface ProcessFigures {
  cpuUserMs: number;
  cpuSystemMs: number;
  /** Peak resident set size of the process so far, bytes. */
  maxRssBytes: number;
}

export function cpuSince(start: NodeJS.CpuUsage): Pick<ProcessFigures, 'cpuUserMs' | 'cpuSystemMs'> {
  const d = process.cpuUsage(start);
  return { cpuUserMs: d.user / 1000, cpuSystemMs: d.system / 1000 };
}

export function maxRss(): number {
  return process.resourceUsage().maxRSS * 1024;
}
