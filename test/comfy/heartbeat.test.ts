// A server that stops answering pings (half-open connection) is dropped and dialled again.
import { once } from 'node:events';
import { describe, expect, it } from 'vitest';
import { useHarness } from './harness.js';

const h = useHarness({ autoPong: false });

describe('heartbeat', () => {
  it('terminates a socket whose pong never comes and reconnects', async () => {
    const { c } = await h.connected({ heartbeatMs: 10 });
    const next = h.stub.nextSocket();
    await once(c, 'disconnected');
    const second = await next;
    expect(second.url.searchParams.get('clientId')).toBe('client-1');
    expect(h.stub.sockets).toHaveLength(2);
  });
});
