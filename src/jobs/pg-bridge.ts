// node-postgres behind a synchronous call. The core is built on a synchronous store (better-sqlite3's model:
// a transition or an admission is decided before the next line runs), so the PostgreSQL store keeps that
// interface: `pg` runs on a dedicated worker thread and the calling thread sleeps on Atomics.wait until the
// worker has its answer, then reads it with receiveMessageOnPort. One request is in flight at a time.
// Written here (about a hundred lines) rather than taken from synckit: we need a per-call time limit that
// poisons the bridge on expiry, a reconnecting client, and transactions with abort guards, which would be
// as much code on top of synckit as without it.
import { createRequire } from 'node:module';
import { MessageChannel, receiveMessageOnPort, Worker, type MessagePort } from 'node:worker_threads';
import { StoreError } from './store-errors.js';

/** One statement of a transaction; `abortIf` ends the transaction (rolled back) when its rows say so. */
export interface TxStep {
  sql: string;
  params: readonly unknown[];
  /** 'rows': abort if the statement returned a row; 'none': abort if it returned or changed nothing. */
  abortIf?: 'rows' | 'none';
}

export interface QueryResult {
  rows: Record<string, unknown>[];
  rowCount: number;
}

/** A transaction's outcome: every step's result, or the step that aborted it and its first row. */
export type TxResult = { ok: true; results: QueryResult[] } | { ok: false; step: number; row: Record<string, unknown> | undefined };

type Request =
  | { kind: 'query'; sql: string; params: readonly unknown[] }
  | { kind: 'transaction'; steps: readonly TxStep[] }
  | { kind: 'close' };

/** `id` is the request's: an answer is only ever taken for the request that asked it. */
type Answer = { id: number } & ({ ok: true; value: unknown } | { ok: false; error: { message: string; code?: string } });

/** Runs in the worker (CommonJS, so it needs no TypeScript loader in the built image or under tests). */
const WORKER_SOURCE = `
const { workerData } = require('node:worker_threads');
const pg = require(workerData.pg);
// Epoch milliseconds and counts are BIGINT / NUMERIC in PostgreSQL; every one of ours fits a double.
pg.types.setTypeParser(20, Number);
pg.types.setTypeParser(1700, Number);
const flag = new Int32Array(workerData.flag);
const port = workerData.port;
let client = null;
async function connection() {
  if (client) return client;
  // A process frozen inside a transaction (SIGSTOP, a stalled VM) would keep its locks - the lease row among
  // them - and block the standby taking over; PostgreSQL ends such a session after 2 s instead.
  const fresh = new pg.Client({ connectionString: workerData.url, application_name: 'comfycord', idle_in_transaction_session_timeout: 2000 });
  // A connection lost while idle is replaced on the next request instead of ending the worker.
  fresh.on('error', () => { if (client === fresh) client = null; });
  await fresh.connect();
  client = fresh;
  return fresh;
}
const result = (r) => ({ rows: r.rows ?? [], rowCount: r.rowCount ?? 0 });
async function transaction(db, steps) {
  await db.query('BEGIN');
  try {
    const results = [];
    for (let i = 0; i < steps.length; i++) {
      const r = result(await db.query(steps[i].sql, steps[i].params));
      const abort = steps[i].abortIf;
      if ((abort === 'rows' && r.rows.length > 0) || (abort === 'none' && r.rows.length === 0 && r.rowCount === 0)) {
        await db.query('ROLLBACK');
        return { ok: false, step: i, row: r.rows[0] };
      }
      results.push(r);
    }
    await db.query('COMMIT');
    return { ok: true, results };
  } catch (error) {
    await db.query('ROLLBACK').catch(() => undefined);
    throw error;
  }
}
async function handle(request) {
  if (request.kind === 'close') {
    if (client) await client.end().catch(() => undefined);
    client = null;
    return null;
  }
  const db = await connection();
  if (request.kind === 'query') return result(await db.query(request.sql, request.params));
  return transaction(db, request.steps);
}
port.on('message', async (request) => {
  let answer;
  try {
    answer = { id: request.id, ok: true, value: await handle(request) };
  } catch (error) {
    answer = { id: request.id, ok: false, error: { message: String(error && error.message), code: error && error.code } };
  }
  port.postMessage(answer);
  Atomics.add(flag, 0, 1);
  Atomics.notify(flag, 0);
});
`;

/** A PostgreSQL error as the store reports it: the server's message and its SQLSTATE code. */
export class PgError extends StoreError {
  constructor(
    message: string,
    readonly code: string | undefined,
  ) {
    super(message);
  }
}

/** The URL without its password, for messages and logs. */
export function redactUrl(url: string): string {
  return url.replace(/\/\/([^:/@]+):[^@]*@/, '//$1:***@');
}

export class SyncPg {
  private readonly worker: Worker;
  private readonly port: MessagePort;
  private readonly flag = new Int32Array(new SharedArrayBuffer(4));
  private broken: string | null = null;
  private lastId = 0;

  constructor(
    private readonly url: string,
    private readonly timeoutMs = 30_000,
  ) {
    const { port1, port2 } = new MessageChannel();
    this.port = port1;
    const pgPath = createRequire(import.meta.url).resolve('pg');
    this.worker = new Worker(WORKER_SOURCE, {
      eval: true,
      workerData: { pg: pgPath, url, flag: this.flag.buffer, port: port2 },
      transferList: [port2],
    });
    // The worker must not keep the process alive; close() ends it.
    this.worker.unref();
    this.worker.on('error', (error) => (this.broken = `its worker thread failed: ${error.message}`));
  }

  query(sql: string, params: readonly unknown[] = []): QueryResult {
    return this.call({ kind: 'query', sql, params }) as QueryResult;
  }

  transaction(steps: readonly TxStep[]): TxResult {
    return this.call({ kind: 'transaction', steps }) as TxResult;
  }

  close(): void {
    if (!this.broken) {
      try {
        this.call({ kind: 'close' });
      } catch {
        // Closing: the worker goes either way.
      }
    }
    this.broken ??= 'it is closed';
    this.port.close();
    void this.worker.terminate();
  }

  private call(request: Request): unknown {
    if (this.broken) throw new StoreError(`the PostgreSQL connection (${redactUrl(this.url)}) is unusable: ${this.broken}`);
    const id = ++this.lastId;
    this.port.postMessage({ ...request, id });
    const deadline = Date.now() + this.timeoutMs;
    for (;;) {
      const seen = Atomics.load(this.flag, 0);
      const message = receiveMessageOnPort(this.port);
      if (message) {
        const answer = message.message as Answer;
        // An answer to an earlier request (one read late) is dropped: ours is the one with our id.
        if (answer.id !== id) continue;
        if (!answer.ok) throw new PgError(answer.error.message, answer.error.code);
        return answer.value;
      }
      const left = deadline - Date.now();
      if (left <= 0) {
        this.broken = `no answer within ${this.timeoutMs} ms`;
        void this.worker.terminate();
        throw new StoreError(`PostgreSQL (${redactUrl(this.url)}) gave no answer within ${this.timeoutMs} ms`);
      }
      // Woken by the worker's signal; a few milliseconds at most when the signal came before its message could be
      // read on this side (reading the message is what counts, never the signal alone).
      Atomics.wait(this.flag, 0, seen, Math.min(left, 5));
    }
  }
}
