import { describe, expect, it } from 'vitest';
import { Child } from './ipc.js';

describe('the bench child process channel', () => {
  it('answers calls, relays events and errors with the child\'s message, and stops the child', async () => {
    const child = Child.start('ipc-fixture.ts', 'fixture');
    try {
      expect(await child.call('echo', { value: { a: [1, 2] } })).toEqual({ a: [1, 2] });
      const event = new Promise((resolve) => child.on('tick', resolve));
      expect(await child.call('emit', { name: 'tick', body: 42 })).toBe('sent');
      expect(await event).toBe(42);
      await expect(child.call('fail')).rejects.toThrow(/fixture: Error: asked to fail/);
      await expect(child.call('nope')).rejects.toThrow('fixture: unknown method nope');
      await expect(child.call('hang', {}, 50)).rejects.toThrow('fixture: hang got no answer within 50 ms');
    } finally {
      await child.stop();
    }
    await expect(child.call('echo', { value: 1 })).rejects.toThrow(/fixture exited .*cannot call echo/);
  });

  it('rejects calls in flight when the child dies', async () => {
    const child = Child.start('ipc-fixture.ts', 'fixture');
    try {
      await expect(child.call('exit')).rejects.toThrow('fixture exited (code 3)');
    } finally {
      await child.stop();
    }
  });
});
