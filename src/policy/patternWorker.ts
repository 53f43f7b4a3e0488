// Admin patterns are run on a worker thread, so no prompt blocks the bot's event loop: compiling a server's list
// and building RE2's automaton for a long prompt can take tens of milliseconds in JavaScript, which the main
// thread would otherwise spend not answering Discord. One check is in flight at a time; a check that passes the
// hard limit ends the worker (a fresh one takes the next check), and the pattern it was on is handed back as
// disabled — it is not applied again and refuses nobody — while the prompt is checked again without it.
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';

/** Runs in the worker (CommonJS, so it needs no loader for TypeScript): compiles lists once, tests texts. */
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const { RE2JS } = require(workerData.re2js);
const progress = new Int32Array(workerData.progress);
const lists = new Map();
function compiled(patterns) {
  const key = JSON.stringify(patterns);
  let list = lists.get(key);
  if (!list) {
    list = patterns.map((source) => {
      try {
        return { re: RE2JS.compile(source, RE2JS.CASE_INSENSITIVE) };
      } catch (error) {
        return { problem: String(error && error.message) };
      }
    });
    if (lists.size >= 64) lists.delete(lists.keys().next().value);
    lists.set(key, list);
  }
  return list;
}
parentPort.on('message', ({ patterns, texts }) => {
  const list = compiled(patterns);
  const unusable = [];
  for (let p = 0; p < list.length; p++) {
    Atomics.store(progress, 0, p);
    const entry = list[p];
    if (!entry.re) {
      unusable.push({ index: p, problem: entry.problem });
      continue;
    }
    for (let t = 0; t < texts.length; t++) {
      if (entry.re.test(texts[t])) return parentPort.postMessage({ match: { index: p, text: t }, unusable });
    }
  }
  parentPort.postMessage({ match: null, unusable });
});
`;

/** How long one check may run before the pattern it is on is disabled; RE2 is linear, so only a backstop. */
export const PATTERN_CHECK_LIMIT_MS = 1000;

interface WorkerAnswer {
  match: { index: number; text: number } | null;
  unusable: { index: number; problem: string }[];
}

export type CheckOutcome =
  | { kind: 'answered'; answer: WorkerAnswer }
  /** The check passed the hard limit while on pattern `index`. */
  | { kind: 'timed-out'; index: number };

export class PatternWorker {
  private worker: Worker | null = null;
  private readonly progress = new Int32Array(new SharedArrayBuffer(4));
  private queue: Promise<unknown> = Promise.resolve();

  constructor(readonly limitMs = PATTERN_CHECK_LIMIT_MS) {}

  /** Checks `texts` against `patterns` on the worker; checks run one after another. */
  check(patterns: readonly string[], texts: readonly string[]): Promise<CheckOutcome> {
    const run = this.queue.then(() => this.run(patterns, texts));
    this.queue = run.catch(() => undefined);
    return run;
  }

  /** Ends the worker (a later check starts a new one). */
  async close(): Promise<void> {
    const worker = this.worker;
    this.worker = null;
    await worker?.terminate();
  }

  private start(): Worker {
    const re2js = createRequire(import.meta.url).resolve('re2js');
    const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { re2js, progress: this.progress.buffer } });
    // An idle checker must not keep the process alive.
    worker.unref();
    return worker;
  }

  private run(patterns: readonly string[], texts: readonly string[]): Promise<CheckOutcome> {
    const worker = (this.worker ??= this.start());
    return new Promise((resolve, reject) => {
      const done = () => {
        clearTimeout(timer);
        worker.off('message', onMessage);
        worker.off('error', onError);
      };
      const onMessage = (answer: WorkerAnswer) => {
        done();
        resolve({ kind: 'answered', answer });
      };
      const onError = (error: Error) => {
        done();
        this.worker = null;
        reject(new Error(`the blocked-pattern checker failed: ${error.message}`, { cause: error }));
      };
      const timer = setTimeout(() => {
        done();
        const index = Atomics.load(this.progress, 0);
        this.worker = null;
        void worker.terminate();
        resolve({ kind: 'timed-out', index });
      }, this.limitMs);
      worker.on('message', onMessage);
      worker.on('error', onError);
      Atomics.store(this.progress, 0, 0);
      worker.postMessage({ patterns, texts });
    });
  }
}
