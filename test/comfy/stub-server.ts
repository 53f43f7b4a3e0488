// A scriptable HTTP + WebSocket server on 127.0.0.1 for client tests: each test states the answers it needs
// (often straight from the recorded transcripts) and pushes frames to the client's socket itself.
import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';

export interface StubRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  headers: IncomingMessage['headers'];
  body: Buffer;
  json(): unknown;
}

export interface StubReply {
  status?: number;
  json?: unknown;
  text?: string;
  bytes?: Buffer;
  headers?: Record<string, string>;
  /** Never answer (timeouts). */
  hang?: boolean;
}

export type Handler = (req: StubRequest) => StubReply | Promise<StubReply>;

export interface StubSocket {
  ws: WebSocket;
  url: URL;
  /** Text frames the client sent, parsed. */
  received: unknown[];
  firstMessage: Promise<unknown>;
  sendJson(value: unknown): void;
  sendText(text: string): void;
  sendBinary(frame: Buffer): void;
}

export class StubServer {
  readonly requests: StubRequest[] = [];
  readonly sockets: StubSocket[] = [];
  private readonly routes = new Map<string, Handler>();
  private readonly waiting: Array<(s: StubSocket) => void> = [];
  private readonly wss: WebSocketServer;

  private constructor(
    private readonly server: Server,
    readonly url: string,
    wss: WebSocketServer,
  ) {
    this.wss = wss;
  }

  static async start(options: { autoPong?: boolean } = {}): Promise<StubServer> {
    const server = createServer();
    // Compression accepted when the client offers it, as ComfyUI's aiohttp does (WebSocketResponse compress=True).
    const wss = new WebSocketServer({ noServer: true, autoPong: options.autoPong ?? true, perMessageDeflate: true });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const { port } = server.address() as AddressInfo;
    const stub = new StubServer(server, `http://127.0.0.1:${port}`, wss);
    server.on('request', (req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const url = new URL(req.url ?? '/', stub.url);
        const body = Buffer.concat(chunks);
        const request: StubRequest = {
          method: req.method ?? 'GET',
          path: url.pathname,
          query: url.searchParams,
          headers: req.headers,
          body,
          json: () => JSON.parse(body.toString('utf8')) as unknown,
        };
        stub.requests.push(request);
        const handler = stub.routes.get(`${request.method} ${request.path}`);
        void Promise.resolve(handler ? handler(request) : { status: 404, text: '404: Not Found' }).then((reply) => {
          if (reply.hang) return;
          const headers = { ...reply.headers };
          let payload: Buffer = Buffer.alloc(0);
          if (reply.json !== undefined) {
            headers['content-type'] = 'application/json';
            payload = Buffer.from(JSON.stringify(reply.json));
          } else if (reply.text !== undefined) {
            headers['content-type'] ??= 'text/plain';
            payload = Buffer.from(reply.text);
          } else if (reply.bytes) {
            payload = reply.bytes;
          }
          res.writeHead(reply.status ?? 200, headers);
          res.end(payload);
        });
      });
    });
    server.on('upgrade', (req, socket, head) => {
      const url = new URL(req.url ?? '/', stub.url);
      if (url.pathname !== '/ws' && url.pathname !== '/api/ws') {
        socket.destroy();
        return;
      }
      wss.handleUpgrade(req, socket, head, (ws) => stub.accept(ws, url));
    });
    stub.route('GET', '/api/system_stats', () => ({ json: { system: { comfyui_version: '0.3.64' }, devices: [] } }));
    return stub;
  }

  route(method: string, path: string, handler: Handler): void {
    this.routes.set(`${method} ${path}`, handler);
  }

  /** The next socket to connect: call before the client connects. */
  nextSocket(): Promise<StubSocket> {
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  get lastSocket(): StubSocket | undefined {
    return this.sockets.at(-1);
  }

  requestsTo(method: string, path: string): StubRequest[] {
    return this.requests.filter((r) => r.method === method && r.path === path);
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.ws.terminate();
    this.wss.close();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private accept(ws: WebSocket, url: URL): void {
    const received: unknown[] = [];
    let resolveFirst!: (v: unknown) => void;
    const firstMessage = new Promise<unknown>((resolve) => {
      resolveFirst = resolve;
    });
    ws.on('message', (data, isBinary) => {
      if (isBinary) return;
      const value = JSON.parse(String(data)) as unknown;
      received.push(value);
      if (received.length === 1) resolveFirst(value);
    });
    const socket: StubSocket = {
      ws,
      url,
      received,
      firstMessage,
      sendJson: (value) => ws.send(JSON.stringify(value)),
      sendText: (text) => ws.send(text),
      sendBinary: (frame) => ws.send(frame, { binary: true }),
    };
    this.sockets.push(socket);
    const clientId = url.searchParams.get('clientId');
    socket.sendJson({ type: 'status', data: { status: { exec_info: { queue_remaining: 0 } }, sid: clientId } });
    this.waiting.shift()?.(socket);
  }
}
