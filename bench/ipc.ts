// The system under test runs in its own Node process, so its CPU time, memory and event-loop delay are its own
// and not the fakes'. Parent and child talk over Node's IPC channel: calls with replies, plus events from the child.
import { execFileSync, fork, type ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readStartCommand } from './startCommand.js';

type Message =
  | { kind: 'call'; id: number; method: string; params: unknown }
  | { kind: 'reply'; id: number; ok: true; value: unknown }
  | { kind: 'reply'; id: number; ok: false; error: string }
  | { kind: 'event'; name: string; body: unknown };

const REPO_ROOT = fileURLToPath(new URL('..', import.meta.url));

/**
 * How a child runs. 'production': tsc's output (tsconfig.bench.json: src/ as `npm run build` compiles it, plus
 * bench/sut) under plain node with `npm start`'s environment and node flags, the way the shipped bot runs.
 * 'source': the TypeScript under tsx, for children whose loader's cost does not matter.
 */
export type ChildRuntime = 'production' | 'source';

const BENCH_TSCONFIG = join(REPO_ROOT, 'tsconfig.bench.json');
const BENCH_OUT_DIR = join(REPO_ROOT, 'dist', 'bench');
let compiled = false;

/** Compiles src/ and bench/sut once per bench process (incremental: seconds when nothing changed). */
function compileOnce(): void {
  if (compiled) return;
  const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
  try {
    execFileSync(process.execPath, [tsc, '-p', BENCH_TSCONFIG], { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (error) {
    const out = (error as { stdout?: Buffer }).stdout?.toString() ?? '';
    throw new ChildError(`compiling the bench's system under test (tsc -p tsconfig.bench.json) failed:\n${out}`);
  }
  compiled = true;
}

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

  /** Starts `bench/<script>` (a .ts path) as `runtime` says, plus BENCH_CHILD_NODE_FLAGS, if set. */
  static start(script: string, label = script, runtime: ChildRuntime = 'source'): Child {
    // e.g. BENCH_CHILD_NODE_FLAGS=--cpu-prof to profile the system under test
    const extraFlags = process.env['BENCH_CHILD_NODE_FLAGS']?.split(' ').filter(Boolean) ?? [];
    let child: ChildProcess;
    if (runtime === 'production') {
      compileOnce();
      const start = readStartCommand(join(REPO_ROOT, 'package.json'));
      child = fork(join(BENCH_OUT_DIR, 'bench', script.replace(/\.ts$/, '.js')), [], {
        cwd: REPO_ROOT,
        env: { ...process.env, ...start.env },
        execArgv: [...start.nodeFlags, ...extraFlags],
        stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      });
    } else {
      child = fork(fileURLToPath(new URL(script, import.meta.url)), [], {
        cwd: REPO_ROOT,
        execArgv: ['--import', 'tsx', ...extraFlags],
        stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      });
    }
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
