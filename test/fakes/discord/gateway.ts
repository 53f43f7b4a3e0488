import type { EventEmitter } from 'node:events';
import type { Server } from 'node:http';
import { WebSocket, WebSocketServer, type RawData } from 'ws';
import { shardFor } from './guild.js';
import { randomToken } from './ids.js';
import { waitUntil } from './waitUntil.js';

type Json = Record<string, unknown>;

const Op = { Dispatch: 0, Heartbeat: 1, Identify: 2, Resume: 6, Reconnect: 7, InvalidSession: 9, Hello: 10, HeartbeatAck: 11 } as const;
/** Ops a client may send that the fake accepts without acting on (presence, voice, member requests…). */
const IGNORED_CLIENT_OPS = new Set([3, 4, 8, 31]);
const REPLAY_BUFFER = 1000;

interface Session {
  id: string;
  shard: [number, number];
  seq: number;
  sent: Array<{ s: number; frame: string }>;
  socket?: WebSocket;
  acking: boolean;
}

export interface GatewayOptions {
  server: Server;
  token: string;
  heartbeatIntervalMs: number;
  events: EventEmitter;
  /** READY's `d`, given the new session. */
  ready: (sessionId: string, shard: [number, number]) => Json;
  /** GUILD_CREATE payloads for a shard. */
  guildCreates: (shard: [number, number]) => Array<{ id: string; payload: Json }>;
}

/** Discord's gateway over `ws`: HELLO/heartbeats, IDENTIFY→READY→GUILD_CREATE, sequence numbers and RESUME replay. */
export class FakeGateway {
  /** Every IDENTIFY `d` received, in order (token included), for assertions on intents/shard/compress. */
  readonly identifies: Json[] = [];
  /** Number of successful RESUMEs. */
  resumes = 0;
  readonly #sessions = new Map<string, Session>();
  readonly #wss: WebSocketServer;

  constructor(private readonly options: GatewayOptions) {
    this.#wss = new WebSocketServer({ server: options.server, path: '/gateway' });
    this.#wss.on('connection', (socket) => this.#accept(socket));
  }

  /**
   * Resolves once a session owning the guild's shard is connected. Tests call this before dispatching, since with
   * no bot connected (not started yet, restarting, resuming) real Discord would simply drop the interaction.
   */
  async whenConnected(guildId: string | undefined, timeoutMs: number, what: string): Promise<void> {
    await waitUntil(
      this.options.events,
      ['gateway-ready', 'resumed'],
      () => this.#sessionFor(guildId) !== undefined,
      timeoutMs,
      () => `fake gateway: cannot dispatch ${what}: no connected session after ${timeoutMs} ms (is the bot logged in?)`,
    );
  }

  /** Sends a dispatch to the connected session owning the guild's shard (DMs: shard 0). */
  dispatch(event: string, data: Json, guildId: string | undefined): void {
    const session = this.#sessionFor(guildId);
    if (!session) throw new Error(`fake gateway: cannot dispatch ${event}: no connected session (await whenConnected first)`);
    this.#send(session, event, data);
  }

  /** Closes every live gateway socket with `code` (4000: resumable; 4004: fatal auth failure; 1000: re-identify). */
  close(code: number, reason = 'closed by the fake'): void {
    for (const session of this.#sessions.values()) session.socket?.close(code, reason);
  }

  /** op 7: the client should reconnect and resume. */
  reconnect(): void {
    for (const session of this.#sessions.values()) this.#raw(session.socket, { op: Op.Reconnect, d: null });
  }

  /** op 9 d:false: forgets the sessions so the client must identify again. */
  invalidSession(): void {
    for (const session of this.#sessions.values()) this.#raw(session.socket, { op: Op.InvalidSession, d: false });
    this.#sessions.clear();
  }

  /** Stops acknowledging heartbeats on the current connections (zombie detection); new connections ack again. */
  stopAcking(): void {
    for (const session of this.#sessions.values()) session.acking = false;
  }

  get connected(): boolean {
    return [...this.#sessions.values()].some((s) => s.socket?.readyState === WebSocket.OPEN);
  }

  async shutdown(): Promise<void> {
    for (const client of this.#wss.clients) client.terminate();
    await new Promise<void>((resolve) => this.#wss.close(() => resolve()));
  }

  #accept(socket: WebSocket): void {
    let session: Session | undefined;
    let acking = true;
    this.#raw(socket, { op: Op.Hello, d: { heartbeat_interval: this.options.heartbeatIntervalMs } });
    socket.on('message', (raw: RawData) => {
      let packet: Json;
      try {
        packet = JSON.parse(raw.toString()) as Json;
      } catch {
        socket.close(4002, 'Error while decoding payload.');
        return;
      }
      const d = packet['d'] as Json | null;
      switch (packet['op']) {
        case Op.Heartbeat:
          if (session ? session.acking : acking) this.#raw(socket, { op: Op.HeartbeatAck });
          return;
        case Op.Identify:
          if (session) return socket.close(4005, 'Already authenticated.');
          session = this.#identify(socket, d ?? {});
          return;
        case Op.Resume:
          session = this.#resume(socket, d ?? {});
          return;
        default:
          if (!IGNORED_CLIENT_OPS.has(packet['op'] as number)) socket.close(4001, 'Unknown opcode.');
      }
    });
    socket.on('close', () => {
      if (session?.socket === socket) delete session.socket;
      acking = false;
    });
  }

  #identify(socket: WebSocket, d: Json): Session | undefined {
    this.identifies.push(d);
    this.options.events.emit('identify', d);
    if (d['token'] !== this.options.token && d['token'] !== `Bot ${this.options.token}`) {
      socket.close(4004, 'Authentication failed.');
      return undefined;
    }
    if (typeof d['intents'] !== 'number') {
      socket.close(4013, 'Invalid intent(s).');
      return undefined;
    }
    const requested = d['shard'];
    const shard: [number, number] =
      Array.isArray(requested) && typeof requested[0] === 'number' && typeof requested[1] === 'number' ? [requested[0], requested[1]] : [0, 1];
    const session: Session = { id: randomToken(16), shard, seq: 0, sent: [], socket, acking: true };
    this.#sessions.set(session.id, session);
    this.#send(session, 'READY', this.options.ready(session.id, shard));
    for (const guild of this.options.guildCreates(shard)) this.#send(session, 'GUILD_CREATE', guild.payload);
    this.options.events.emit('gateway-ready', session.id);
    return session;
  }

  #resume(socket: WebSocket, d: Json): Session | undefined {
    const session = this.#sessions.get(String(d['session_id']));
    if (!session || d['token'] !== this.options.token) {
      this.#raw(socket, { op: Op.InvalidSession, d: false });
      return undefined;
    }
    session.socket?.terminate();
    session.socket = socket;
    session.acking = true;
    const after = typeof d['seq'] === 'number' ? d['seq'] : 0;
    for (const entry of session.sent) if (entry.s > after) socket.send(entry.frame);
    this.resumes += 1;
    this.#send(session, 'RESUMED', {});
    this.options.events.emit('resumed', session.id);
    return session;
  }

  #send(session: Session, event: string, data: Json): void {
    session.seq += 1;
    const frame = JSON.stringify({ op: Op.Dispatch, t: event, s: session.seq, d: data });
    session.sent.push({ s: session.seq, frame });
    if (session.sent.length > REPLAY_BUFFER) session.sent.shift();
    if (session.socket?.readyState === WebSocket.OPEN) session.socket.send(frame);
  }

  #raw(socket: WebSocket | undefined, packet: Json): void {
    if (socket?.readyState === WebSocket.OPEN) socket.send(JSON.stringify(packet));
  }

  /** Guild events go to shard (guild_id >> 22) % shard_count, DMs to shard 0; the newest connected session wins. */
  #sessionFor(guildId: string | undefined): Session | undefined {
    const sessions = [...this.#sessions.values()].filter(
      (s) =>
        s.socket?.readyState === WebSocket.OPEN &&
        s.shard[0] === shardFor(guildId, s.shard[1]),
    );
    return sessions[sessions.length - 1];
  }
}
