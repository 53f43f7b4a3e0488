// One WebSocket per backend: feature-flags handshake, client pings as heartbeat, reconnect with backoff.
import { EventEmitter } from 'node:events';
import WebSocket from 'ws';
import type { Logger } from '../config/logger.js';
import { parseBinaryFrame, type BinaryFrame } from './frames.js';
import { MessageShapeError, parseServerMessage, type ServerMessage } from './messages.js';

export interface ComfySocketOptions {
  /** `ws://host:port/ws?clientId=...[&token=...]` */
  url: string;
  logger: Logger;
  reconnect: { minMs: number; maxMs: number };
  /** Ping interval; a ping still unanswered at the next tick terminates the socket. */
  heartbeatMs: number;
  random?: () => number;
}

export interface ComfySocketEvents {
  open: [];
  close: [];
  message: [ServerMessage];
  binary: [BinaryFrame];
}

export class ComfySocket extends EventEmitter<ComfySocketEvents> {
  private ws: WebSocket | undefined;
  private attempt = 0;
  private retryTimer: NodeJS.Timeout | undefined;
  private heartbeat: NodeJS.Timeout | undefined;
  private closed = true;
  private awaitingPong = false;

  constructor(private readonly options: ComfySocketOptions) {
    super();
  }

  get open(): boolean {
    return this.ws?.readyState === WebSocket.OPEN;
  }

  /** Resolves on the first successful open; rejects if that first attempt fails (later drops reconnect). */
  start(): Promise<void> {
    this.closed = false;
    return new Promise((resolve, reject) => {
      const ws = this.dial();
      const onOpen = () => {
        ws.off('close', onFail);
        resolve();
      };
      const onFail = () => {
        ws.off('open', onOpen);
        reject(new Error(`cannot open ${redact(this.options.url)}`));
      };
      ws.once('open', onOpen);
      ws.once('close', onFail);
    });
  }

  stop(): void {
    this.closed = true;
    clearTimeout(this.retryTimer);
    this.stopHeartbeat();
    const ws = this.ws;
    this.ws = undefined;
    ws?.removeAllListeners();
    ws?.on('error', () => undefined);
    ws?.terminate();
  }

  private dial(): WebSocket {
    // Close the previous socket first: ComfyUI unregisters a client id when an old socket with that id closes,
    // which would silently cut off a new one if the old one lingered (Comfy-Org/ComfyUI#16010).
    this.ws?.removeAllListeners();
    this.ws?.on('error', () => undefined);
    this.ws?.terminate();
    // No permessage-deflate: ComfyUI (aiohttp) would compress every frame when offered, costing its CPU and ours
    // for JSON of a few dozen bytes and previews that are JPEG or WebP already. Its JSON is ASCII (json.dumps),
    // so validating each text frame as UTF-8 checks nothing.
    const ws = new WebSocket(this.options.url, { perMessageDeflate: false, skipUTF8Validation: true });
    this.ws = ws;
    ws.on('open', () => {
      this.attempt = 0;
      ws.send(JSON.stringify({ type: 'feature_flags', data: { supports_preview_metadata: true } }));
      this.startHeartbeat(ws);
      this.emit('open');
    });
    ws.on('message', (data, isBinary) => this.receive(Buffer.isBuffer(data) ? data : Buffer.concat(toBuffers(data)), isBinary));
    ws.on('pong', () => {
      this.awaitingPong = false;
    });
    ws.on('error', (err) => this.options.logger.debug({ err: err.message }, 'comfy socket error'));
    ws.on('close', () => {
      if (this.ws !== ws) return;
      this.stopHeartbeat();
      this.emit('close');
      this.scheduleReconnect();
    });
    return ws;
  }

  private receive(data: Buffer, isBinary: boolean): void {
    if (isBinary) {
      const frame = parseBinaryFrame(data);
      if (frame.kind === 'malformed') this.options.logger.warn({ reason: frame.reason }, 'dropped a malformed binary frame');
      else if (frame.kind !== 'unknown') this.emit('binary', frame);
      return;
    }
    try {
      const message = parseServerMessage(data.toString('utf8'));
      if (message.type !== 'unknown') this.emit('message', message);
    } catch (err) {
      if (!(err instanceof MessageShapeError)) throw err;
      this.options.logger.warn({ reason: err.message }, 'dropped a malformed message');
    }
  }

  private scheduleReconnect(): void {
    if (this.closed) return;
    const delay = reconnectDelay(this.attempt, this.options.reconnect, this.options.random ?? Math.random);
    this.attempt += 1;
    this.retryTimer = setTimeout(() => this.dial(), delay);
  }

  private startHeartbeat(ws: WebSocket): void {
    this.stopHeartbeat();
    this.awaitingPong = false;
    this.heartbeat = setInterval(() => {
      if (this.awaitingPong) {
        this.options.logger.warn('comfy socket missed a pong; reconnecting');
        ws.terminate();
        return;
      }
      this.awaitingPong = true;
      ws.ping();
    }, this.options.heartbeatMs);
  }

  private stopHeartbeat(): void {
    clearInterval(this.heartbeat);
    this.heartbeat = undefined;
  }
}

/**
 * Exponential backoff with jitter in the upper half of each step, so bots restarted together do not hammer
 * a recovering server in lockstep.
 */
export function reconnectDelay(attempt: number, range: { minMs: number; maxMs: number }, random: () => number): number {
  const ceiling = Math.min(range.maxMs, range.minMs * 2 ** attempt);
  return ceiling / 2 + random() * (ceiling / 2);
}

function toBuffers(data: WebSocket.RawData): Buffer[] {
  if (Array.isArray(data)) return data;
  return [Buffer.from(data as ArrayBuffer)];
}

function redact(url: string): string {
  return url.replace(/token=[^&]*/, 'token=[redacted]');
}
