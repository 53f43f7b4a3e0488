// The WebSocket side of the fake: registration by clientId, the feature-flag handshake and the routing rule of
// ComfyUI's `send_json(event, data, sid)` (sid undefined = every socket).
import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';

export interface HubFaults {
  /** Sockets stay open but nothing is sent. */
  stalled: boolean;
  /** ComfyUI#16010: a closing socket unregisters its clientId even if a newer socket took it over. */
  reconnectBug: boolean;
}

interface Client {
  socket: WebSocket;
  clientId: string;
  flags: Record<string, unknown> | undefined;
}

export interface HubHooks {
  /** The first `status` frame's queue count. */
  queueRemaining(): number;
  /** The node currently running for a prompt submitted by this clientId, for the reconnect replay. */
  runningNodeFor(clientId: string): string | undefined;
  serverFlags(): Record<string, unknown> | undefined;
  onConnected(clientId: string): void;
  onDisconnected(clientId: string): void;
}

export class SocketHub {
  private readonly wss = new WebSocketServer({ noServer: true });
  private readonly registered = new Map<string, Client>();
  private readonly all = new Set<Client>();

  constructor(
    private readonly hooks: HubHooks,
    readonly faults: HubFaults,
  ) {}

  upgrade(request: IncomingMessage, socket: Duplex, head: Buffer, clientIdParam: string | null): void {
    this.wss.handleUpgrade(request, socket, head, (ws) => this.accept(ws, clientIdParam));
  }

  private accept(socket: WebSocket, clientIdParam: string | null): void {
    const clientId = clientIdParam || randomUUID().replaceAll('-', '');
    const client: Client = { socket, clientId, flags: undefined };
    this.all.add(client);
    this.registered.set(clientId, client);
    let first = true;
    socket.on('message', (data, isBinary) => {
      if (!first || isBinary) return;
      first = false;
      const serverFlags = this.hooks.serverFlags();
      if (!serverFlags) return;
      let message: unknown;
      try {
        message = JSON.parse(String(data));
      } catch {
        return; // ComfyUI logs a warning and sends nothing
      }
      const { type, data: flags } = (message ?? {}) as { type?: unknown; data?: unknown };
      if (type !== 'feature_flags' || flags === null || typeof flags !== 'object') return;
      client.flags = flags as Record<string, unknown>;
      this.sendTo(client, { type: 'feature_flags', data: serverFlags });
    });
    socket.on('close', () => {
      this.all.delete(client);
      if (this.registered.get(clientId) === client || this.faults.reconnectBug) this.registered.delete(clientId);
      this.hooks.onDisconnected(clientId);
    });
    socket.on('error', () => socket.terminate());
    this.sendTo(client, {
      type: 'status',
      data: { status: { exec_info: { queue_remaining: this.hooks.queueRemaining() } }, sid: clientId },
    });
    const running = this.hooks.runningNodeFor(clientId);
    if (running !== undefined) this.sendTo(client, { type: 'executing', data: { node: running } });
    this.hooks.onConnected(clientId);
  }

  /** Did the socket registered under this clientId negotiate `supports_preview_metadata`? */
  wantsPreviewMetadata(clientId: string | undefined): boolean {
    return clientId !== undefined && this.registered.get(clientId)?.flags?.['supports_preview_metadata'] === true;
  }

  /** `sid` undefined → every socket; otherwise only the socket registered under it (dropped if none). */
  send(message: unknown, sid: string | undefined): void {
    this.deliver(JSON.stringify(message), sid);
  }

  sendBinary(frame: Buffer, sid: string | undefined): void {
    this.deliver(frame, sid);
  }

  private deliver(payload: string | Buffer, sid: string | undefined): void {
    if (sid === undefined) {
      for (const client of this.registered.values()) this.write(client, payload);
      return;
    }
    const client = this.registered.get(sid);
    if (client) this.write(client, payload);
  }

  private sendTo(client: Client, message: unknown): void {
    this.write(client, JSON.stringify(message));
  }

  private write(client: Client, payload: string | Buffer): void {
    if (this.faults.stalled || client.socket.readyState !== client.socket.OPEN) return;
    client.socket.send(payload, { binary: typeof payload !== 'string' });
  }

  get clientIds(): string[] {
    return [...this.registered.keys()];
  }

  /** Close every socket abruptly (no close frame), like a crashed server or a dead network. */
  dropAll(): void {
    for (const client of this.all) client.socket.terminate();
  }

  close(): void {
    this.dropAll();
    this.registered.clear();
    this.wss.close();
  }
}
