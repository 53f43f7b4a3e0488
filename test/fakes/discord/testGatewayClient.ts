import { WebSocket } from 'ws';

type Json = Record<string, unknown>;

/** A bare gateway client for tests that need raw frames (discord.js hides them): identify and collect dispatches. */
export class RawGatewayClient {
  readonly frames: Json[] = [];
  readonly #waiters: Array<{ match: (f: Json) => boolean; resolve: (f: Json) => void }> = [];

  private constructor(readonly socket: WebSocket) {
    socket.on('message', (raw) => {
      const frame = JSON.parse(raw.toString()) as Json;
      this.frames.push(frame);
      for (const waiter of [...this.#waiters]) {
        if (!waiter.match(frame)) continue;
        this.#waiters.splice(this.#waiters.indexOf(waiter), 1);
        waiter.resolve(frame);
      }
    });
  }

  static async connect(url: string): Promise<RawGatewayClient> {
    const socket = new WebSocket(`${url}?v=10&encoding=json`);
    const client = new RawGatewayClient(socket);
    await new Promise((resolve, reject) => {
      socket.once('open', resolve);
      socket.once('error', reject);
    });
    return client;
  }

  send(packet: Json): void {
    this.socket.send(JSON.stringify(packet));
  }

  /** Resolves with the first frame (already received or future) that matches. */
  next(match: (frame: Json) => boolean): Promise<Json> {
    const seen = this.frames.find(match);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve) => this.#waiters.push({ match, resolve }));
  }

  dispatch(event: string): Promise<Json> {
    return this.next((f) => f['t'] === event);
  }

  closed(): Promise<{ code: number; reason: string }> {
    return new Promise((resolve) => this.socket.once('close', (code, reason) => resolve({ code, reason: reason.toString() })));
  }

  async identify(token: string, intents = 1): Promise<Json> {
    this.send({ op: 2, d: { token, intents, properties: {}, shard: [0, 1] } });
    return (await this.dispatch('READY'))['d'] as Json;
  }
}
