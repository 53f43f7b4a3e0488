import { describe, expect, it } from 'vitest';
import { http } from './client.js';
import { useFakeComfy } from './session.js';

const comfy = useFakeComfy();

describe('useFakeComfy', () => {
  it('refuses to hand out a fake, or open a socket, before the test started one', async () => {
    expect(() => comfy.fake).toThrow('useFakeComfy: this test has not started a fake yet (call start() first)');
    await expect(comfy.open({ clientId: 'early' })).rejects.toThrow(/has not started a fake yet/);
  });

  it('hands out the fake started last and opens sockets on it', async () => {
    await comfy.start({ objectInfo: 'core' });
    const last = await comfy.start();
    expect(comfy.fake).toBe(last);
    const socket = await comfy.open({ clientId: 'mine' });
    expect(socket.texts('status')[0]?.data).toMatchObject({ sid: 'mine' });
    expect((await http(last.url, 'GET', '/queue')).status).toBe(200);
  });
});
