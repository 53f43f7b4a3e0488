import { describe, expect, it } from 'vitest';
import { silentLogger } from '../../config/logger.js';
import type { Unreachable } from '../cardEditor.js';
import type { CardView } from '../cardRenderer.js';
import type { BotContext } from './context.js';
import { DM_UPLOAD_LIMIT, OwnerDm } from './ownerDm.js';

const base = { jobId: 'job-1', ownerId: 'u1', command: 'imagine', promptKey: 'prompt', params: { prompt: 'a cat' } };
const succeeded: CardView = { ...base, state: { kind: 'succeeded', summary: '1 image', notes: [], elapsedSeconds: 3, imageName: 'a.png', outputCount: 0 } };
const running: CardView = { ...base, state: { kind: 'running', elapsedSeconds: 1, step: null, nodeTitle: null, preview: null } };

function setup(fail?: Error) {
  const sent: { userId: string; message: { content?: string; embeds?: unknown[]; files?: unknown[] } }[] = [];
  const ctx = {
    logger: silentLogger,
    client: {
      users: {
        send: async (userId: string, message: never) => {
          if (fail) throw fail;
          sent.push({ userId, message });
          return { id: `dm${sent.length}` };
        },
      },
    },
  } as unknown as BotContext;
  return { sent, dm: new OwnerDm(ctx, 'job-1', 'u1', 'c1') };
}

const lost = (reason: Unreachable['reason'], view: CardView): Unreachable => ({ reason, message: 'Missing Permissions', view });

describe('OwnerDm', () => {
  it('tells the owner where a card stands when it can no longer be updated', async () => {
    const { sent, dm } = setup();
    dm.cardUnreachable(lost('forbidden', running));
    await Promise.resolve();
    expect(sent).toHaveLength(1);
    expect(sent[0]!.message.content).toBe("Your job's card in <#c1> could not be updated (Missing Permissions). Here is where it stands:");
    expect(sent[0]!.message.embeds).toHaveLength(1);
  });

  it('leaves a final card with results to the detour, which sends the card and its files', async () => {
    const { sent, dm } = setup();
    dm.cardUnreachable(lost('forbidden', succeeded));
    expect(sent).toEqual([]);
    const detour = dm.detour();
    expect(detour?.limitBytes).toBe(DM_UPLOAD_LIMIT);
    const files = [{ name: 'a.png', attachment: Buffer.from('a') }];
    expect(await detour!.post({ view: succeeded, files, batch: 1, of: 2 })).toBe('dm1');
    expect(await detour!.post({ view: null, files, batch: 2, of: 2 })).toBe('dm2');
    expect(sent[0]!.message).toMatchObject({ content: expect.stringContaining('Here are its results'), files });
    expect(sent[0]!.message.embeds).toHaveLength(1);
    expect(sent[1]!.message).toMatchObject({ content: 'Results 2 of 2 · job job-1', embeds: [], files });
  });

  it('offers no detour while the card is reachable, or when Discord merely failed (the results are retried)', () => {
    const { dm } = setup();
    expect(dm.detour()).toBeNull();
    dm.cardUnreachable(lost('failed', succeeded));
    expect(dm.detour()).toBeNull();
  });

  it('lets a failed DM reject, so the results stay pending', async () => {
    const { dm } = setup(new Error('Cannot send messages to this user'));
    dm.cardUnreachable(lost('token-expired', succeeded));
    await expect(dm.detour()!.post({ view: succeeded, files: [], batch: 1, of: 1 })).rejects.toThrow('Cannot send messages to this user');
  });
});
