// The fake ComfyUI every test in the project talks to instead of a real server: real HTTP + WebSocket on
// 127.0.0.1, behaviour taken from recorded ComfyUI 0.3.64 transcripts, plus profiles and fault switches.
import { randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { createReadStream, statSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Engine, type HistoryEntry, type QueueItem } from './engine.js';
import { textFrame, unknownFrame } from './frames.js';
import { Gate } from './gate.js';
import { originMismatch } from './http-util.js';
import { pngImage } from './media.js';
import { buildObjectInfo } from './object-info.js';
import { resolveOptions, type FakeComfyOptions, type ResolvedOptions } from './options.js';
import { handleRequest, serverFlags, type InjectedFailure, type LoggedRequest } from './routes.js';
import { SocketHub } from './socket-hub.js';
import { Storage } from './storage.js';

export type { FakeComfyOptions, FakeProfile } from './options.js';
export type { HistoryEntry, QueueItem } from './engine.js';
export type { LoggedRequest } from './routes.js';

export interface FakeComfyFaults {
  /** Answer the next request whose path matches (exact `/x` also matches `/api/x`; or a RegExp) with `status`. */
  failNext(route: string | RegExp, status: number, body?: string | object): void;
  /** Close every WebSocket abruptly (no close frame), mid-run too. */
  dropSockets(): void;
  /** Keep sockets open but send nothing (new sockets get no initial status either); execution continues. */
  stallSockets(on: boolean): void;
  /**
   * The network to the server is cut: every socket and connection is closed and new ones are reset while on.
   * The server itself goes on running its prompts (unlike `down()`), so a client that comes back can adopt them.
   */
  unreachable(on: boolean): void;
  /** Write history only after a client saw it missing (or 250 ms); `executing:null` still comes after the write. */
  delayHistoryWrite(on: boolean): void;
  /** ComfyUI#16010: an old socket closing unregisters the newer socket with the same clientId. */
  reconnectBug(on: boolean): void;
  /** The next node of this class raises `message` at run time (→ execution_error, history status error). */
  failNextRun(classType: string, message?: string): void;
  /**
   * The next node of this class returns an ExecutionBlocker with `message`: an `execution_error` with
   * `exception_type:"ExecutionBlocked"` is sent, downstream nodes are skipped, and the prompt still ends in success.
   */
  blockNextRun(classType: string, message?: string): void;
  /** A binary frame of a type no ComfyUI defines, to every socket. */
  sendUnknownBinary(): void;
  /** A binary type-3 TEXT frame (what API nodes send via `send_progress_text`), to every socket. */
  sendTextFrame(nodeId: string, text: string): void;
  /** A JSON message of a type clients do not know (custom nodes send these), to every socket. */
  sendUnknownJson(): void;
}

export interface FakeComfyEvents {
  'prompt-queued': [promptId: string];
  'node-start': [promptId: string, node: string];
  step: [promptId: string, node: string, value: number, max: number];
  'prompt-done': [promptId: string, status: 'success' | 'error' | 'interrupted'];
  'ws-connected': [clientId: string];
  'ws-disconnected': [clientId: string];
  request: [method: string, path: string];
}

export interface FakeComfy {
  readonly url: string;
  readonly profile: ResolvedOptions['profile'];
  readonly events: EventEmitter<FakeComfyEvents>;
  readonly requests: readonly LoggedRequest[];
  readonly queue: { readonly running: QueueItem | undefined; readonly pending: readonly QueueItem[] };
  readonly history: ReadonlyMap<string, HistoryEntry>;
  readonly faults: FakeComfyFaults;
  /** The folder holding input/, output/ and temp/. */
  readonly dataDir: string;
  /** The clientIds with a registered socket. */
  readonly clientIds: readonly string[];
  hold(): void;
  release(): void;
  /** Resolves when the next event of that name fires (its arguments). */
  next<K extends keyof FakeComfyEvents>(event: K): Promise<FakeComfyEvents[K]>;
  /** A ComfyUI restart on the same port: sockets closed, queue, history, cache and temp files forgotten. */
  restart(): Promise<void>;
  /** The first half of a restart: the process is gone (sockets closed, connections refused) until `up()`. */
  down(): Promise<void>;
  /** Back on the same port with queue, history, cache and temp files forgotten. */
  up(): Promise<void>;
  close(): Promise<void>;
}

export async function startFakeComfy(input: FakeComfyOptions = {}): Promise<FakeComfy> {
  const fake = new FakeComfyServer(resolveOptions(input));
  await fake.listen();
  return fake;
}

class FakeComfyServer implements FakeComfy {
  readonly events = new EventEmitter<FakeComfyEvents>();
  readonly requests: LoggedRequest[] = [];
  private readonly failures: InjectedFailure[] = [];
  private readonly storage = new Storage();
  private readonly gate = new Gate();
  private readonly info;
  private readonly hubFaults = { stalled: false, reconnectBug: false };
  private cut = false;
  private readonly engineFaults = { delayHistoryWrite: false, nodeFailures: new Map<string, string>(), nodeBlocks: new Map<string, string>() };
  private readonly hub: SocketHub;
  private engine: Engine;
  private server: Server | undefined;
  private port = 0;
  /** cloud: the second host that serves `/api/view` redirects and refuses requests carrying the API key. */
  private signedServer: Server | undefined;
  private signedPort = 0;
  private readonly signedFiles = new Map<string, { file: string; filename: string }>();

  constructor(private readonly options: ResolvedOptions) {
    this.info = buildObjectInfo(options.objectInfo, options.models);
    this.hub = new SocketHub({
      queueRemaining: () => this.engine.queueRemaining,
      runningNodeFor: (clientId) => this.engine.runningNodeFor(clientId),
      serverFlags: () => serverFlags(this.options),
      onConnected: (clientId) => this.events.emit('ws-connected', clientId),
      onDisconnected: (clientId) => this.events.emit('ws-disconnected', clientId),
    }, this.hubFaults);
    this.engine = this.newEngine();
  }

  get profile(): ResolvedOptions['profile'] {
    return this.options.profile;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  get dataDir(): string {
    return this.storage.root;
  }

  get clientIds(): readonly string[] {
    return this.hub.clientIds;
  }

  get queue(): FakeComfy['queue'] {
    const engine = this.engine;
    return {
      get running() {
        return engine.runningItem;
      },
      get pending() {
        return [...engine.pendingItems];
      },
    };
  }

  get history(): ReadonlyMap<string, HistoryEntry> {
    return this.engine.history;
  }

  readonly faults: FakeComfyFaults = {
    failNext: (route, status, body) => {
      this.failures.push({ route, status, body });
    },
    dropSockets: () => this.hub.dropAll(),
    stallSockets: (on) => {
      this.hubFaults.stalled = on;
    },
    unreachable: (on) => {
      this.cut = on;
      if (!on) return;
      this.hub.dropAll();
      this.server?.closeAllConnections();
    },
    delayHistoryWrite: (on) => {
      this.engineFaults.delayHistoryWrite = on;
    },
    reconnectBug: (on) => {
      this.hubFaults.reconnectBug = on;
    },
    failNextRun: (classType, message = `fake failure injected into ${classType}`) => {
      this.engineFaults.nodeFailures.set(classType, message);
    },
    blockNextRun: (classType, message = `execution blocked at ${classType}`) => {
      this.engineFaults.nodeBlocks.set(classType, message);
    },
    sendUnknownBinary: () => this.hub.sendBinary(unknownFrame(), undefined),
    sendTextFrame: (nodeId, text) => this.hub.sendBinary(textFrame(nodeId, text), undefined),
    sendUnknownJson: () => this.hub.send({ type: 'crystools.monitor', data: { cpu_utilization: 12.5, gpus: [] } }, undefined),
  };

  hold(): void {
    this.gate.hold();
  }

  release(): void {
    this.gate.release();
  }

  next<K extends keyof FakeComfyEvents>(event: K): Promise<FakeComfyEvents[K]> {
    return new Promise((resolve) => {
      (this.events as EventEmitter).once(event, (...args: unknown[]) => resolve(args as FakeComfyEvents[K]));
    });
  }

  private newEngine(): Engine {
    return new Engine({
      options: this.options, info: () => this.info, hub: this.hub, storage: this.storage, gate: this.gate,
      events: this.events as EventEmitter, faults: this.engineFaults,
    });
  }

  async listen(): Promise<void> {
    // a fresh ComfyUI install ships input/example.png, which the recorded LoadImage combo lists
    writeFileSync(this.storage.file('input', '', 'example.png')!, await pngImage(64, 64, 'example'));
    if (this.options.profile === 'cloud') await this.startSignedServer();
    await this.startMain();
  }

  private async startMain(): Promise<void> {
    const server = createServer((req, res) => this.onRequest(req, res));
    server.on('connection', (socket) => {
      if (this.cut) socket.destroy();
    });
    // ComfyUI's aiohttp server keeps an idle connection 75 s (Node's default is 5 s).
    server.keepAliveTimeout = 75_000;
    server.on('upgrade', (req, socket, head) => {
      const url = new URL(req.url ?? '/', 'http://fake');
      const reject = (status: string): void => {
        socket.end(`HTTP/1.1 ${status}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n`);
      };
      if (url.pathname !== '/ws' && url.pathname !== '/api/ws') return reject('404 Not Found');
      if (originMismatch(req)) return reject('403 Forbidden');
      if (this.options.profile === 'cloud' && url.searchParams.get('token') !== this.options.apiKey) return reject('401 Unauthorized');
      this.hub.upgrade(req, socket, head, url.searchParams.get('clientId'));
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.port, '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    });
    this.port = (server.address() as AddressInfo).port;
    this.server = server;
  }

  private onRequest(req: IncomingMessage, res: ServerResponse): void {
    handleRequest({
      options: this.options, engine: () => this.engine, storage: this.storage, info: this.info, events: this.events as EventEmitter,
      requests: this.requests, failures: this.failures, signedUrl: (file, filename) => this.sign(file, filename),
    }, req, res).catch((error: unknown) => {
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' });
      res.end(`fake ComfyUI failed: ${String(error)}`);
    });
  }

  private sign(file: string, filename: string): string {
    const token = randomBytes(16).toString('hex');
    this.signedFiles.set(token, { file, filename });
    return `http://127.0.0.1:${this.signedPort}/signed/${token}/${encodeURIComponent(filename)}`;
  }

  private async startSignedServer(): Promise<void> {
    const server = createServer((req, res) => {
      const token = /^\/signed\/([0-9a-f]+)\//.exec(req.url ?? '')?.[1];
      const target = token ? this.signedFiles.get(token) : undefined;
      if (req.headers['x-api-key'] !== undefined) {
        res.writeHead(403, { 'content-type': 'application/xml' });
        return void res.end('<Error><Code>AccessDenied</Code><Message>Unexpected X-API-Key header</Message></Error>');
      }
      if (!target) {
        res.writeHead(404);
        return void res.end();
      }
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': statSync(target.file).size });
      createReadStream(target.file).pipe(res);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    this.signedPort = (server.address() as AddressInfo).port;
    this.signedServer = server;
  }

  async restart(): Promise<void> {
    await this.down();
    await this.up();
  }

  async down(): Promise<void> {
    this.engine.stop();
    this.hub.dropAll();
    await closeServer(this.server);
    this.server = undefined;
  }

  async up(): Promise<void> {
    this.storage.clearTemp();
    this.failures.length = 0;
    this.engine = this.newEngine();
    await this.startMain();
  }

  async close(): Promise<void> {
    this.engine.stop();
    this.gate.release();
    this.hub.close();
    await Promise.all([closeServer(this.server), closeServer(this.signedServer)]);
    this.server = undefined;
    this.storage.remove();
  }
}

function closeServer(server: Server | undefined): Promise<void> {
  if (!server) return Promise.resolve();
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}
