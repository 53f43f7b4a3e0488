// Per-test lifetime for the fake ComfyUI and the raw sockets opened against it, so each test file of the fake
// states only what it checks: call `useFakeComfy()` once at module level, then `start()` and `open()` in tests.
import { afterEach } from 'vitest';
import { RecordingSocket } from './client.js';
import { startFakeComfy, type FakeComfy, type FakeComfyOptions } from './index.js';

export type SocketOptions = NonNullable<Parameters<typeof RecordingSocket.open>[1]>;

export interface FakeComfySession {
  /** Start a fake that is closed after the current test (with every socket this session opened). */
  start(options?: FakeComfyOptions): Promise<FakeComfy>;
  /** The fake the current test started last; throws if it started none. */
  readonly fake: FakeComfy;
  /** Open a recording socket on the current fake, closed after the test before the fake is. */
  open(options?: SocketOptions): Promise<RecordingSocket>;
}

export function useFakeComfy(): FakeComfySession {
  const fakes: FakeComfy[] = [];
  const sockets: RecordingSocket[] = [];
  afterEach(async () => {
    // sockets first: closing the fake under them would record a server-side close the test never asked for
    await Promise.all(sockets.splice(0).map((s) => s.close()));
    await Promise.all(fakes.splice(0).map((f) => f.close()));
  });
  const session: FakeComfySession = {
    async start(options) {
      const fake = await startFakeComfy(options);
      fakes.push(fake);
      return fake;
    },
    get fake() {
      const fake = fakes.at(-1);
      if (!fake) throw new Error('useFakeComfy: this test has not started a fake yet (call start() first)');
      return fake;
    },
    async open(options = {}) {
      const socket = await RecordingSocket.open(session.fake.url, options);
      sockets.push(socket);
      return socket;
    },
  };
  return session;
}
