// Rows that come back from the store after a restart: rebuilt into specs from the commands as loaded now,
// or failed with a message the owner can read when they cannot run again.
import { rmSync } from 'node:fs';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { specFromRow } from '../../src/jobs/recovery-spec.js';
import type { JobRow, StoredImage } from '../../src/jobs/store.js';
import type { CommandDefinition } from '../../src/templates/definition.js';
import type { FakeComfy } from '../fakes/comfy/index.js';
import { commands, INVERT, invertWorkflow } from './commands.js';
import { spec, submittedPrompts, useLives, type BotLife } from './life.js';

const lives = useLives();

function row(extra: Partial<JobRow> = {}): JobRow {
  return {
    id: 'job-1', state: 'queued', promptId: 'p-1', ownerId: 'ann', guildId: 'guild-1', channelId: 'c-1', messageId: null,
    interaction: null, command: 'invert', params: {}, workflow: invertWorkflow(), images: [], backend: null, attempts: 0,
    error: null, outputs: null, delivery: 'none', deliveries: [], uploadLimit: null, parentId: null, parentOutput: null, parentAction: null,
    createdAt: 1, updatedAt: 1,
    startedAt: null, finishedAt: null, gpuMs: null, mode: 'fast', cancelRequest: null, waitSince: null, ...extra,
  };
}

const picture: StoredImage = { option: 'picture', filename: 'cat.png', mime: 'image/png', sha256: 'a'.repeat(64), size: 9, path: '/data/inputs/cat' };

describe('specFromRow', () => {
  it('takes image targets, outputs and limits from the command as loaded now', () => {
    const rebuilt = specFromRow(row(), [picture], commands);
    expect(rebuilt).toEqual({
      ok: true,
      spec: {
        id: 'job-1',
        owner: { userId: 'ann', guildId: 'guild-1', roles: [] },
        command: 'invert',
        workflow: invertWorkflow(),
        params: {},
        images: [{ option: 'picture', filename: 'cat.png', path: picture.path, target: { nodeId: '10', matchedBy: 'title', ref: 'Source.image', input: 'image' } }],
        mode: 'fast',
        outputs: ['12'],
        commandLimits: { perUserQueued: 2 },
      },
    });
  });

  it("looks a job's command up in the job's own server (a server's own command exists there only)", () => {
    const asked: [string, string | null][] = [];
    const lookup = (name: string, guildId: string | null) => {
      asked.push([name, guildId]);
      return guildId === 'guild-1' ? commands(name) : undefined;
    };
    expect(specFromRow(row(), [picture], lookup).ok).toBe(true);
    expect(specFromRow(row({ guildId: 'guild-2' }), [picture], lookup).ok).toBe(false);
    expect(asked).toEqual([['invert', 'guild-1'], ['invert', 'guild-2']]);
  });

  it('keeps the mode the job was accepted in (a relax job stays relax after a restart)', () => {
    const rebuilt = specFromRow(row({ mode: 'relax' }), [picture], commands);
    expect(rebuilt.ok && rebuilt.spec.mode).toBe('relax');
  });

  it('runs a job without images again even when its command is gone', () => {
    const rebuilt = specFromRow(row({ command: 'retired' }), [], commands);
    expect(rebuilt.ok && rebuilt.spec).toMatchObject({ command: 'retired', images: [] });
    expect(rebuilt.ok && 'outputs' in rebuilt.spec).toBe(false);
  });

  it('refuses a job with images whose command is gone', () => {
    expect(specFromRow(row({ command: 'retired' }), [picture], commands)).toEqual({
      ok: false,
      problem: 'the command /retired no longer exists, so its image input cannot be placed',
    });
  });

  it('refuses an image whose option is no longer an image option', () => {
    const changed: CommandDefinition = { ...INVERT, options: [] };
    expect(specFromRow(row(), [picture], () => changed)).toEqual({
      ok: false,
      problem: '/invert no longer has an image option "picture"',
    });
  });

  it("refuses an image whose target is not in the job's workflow", () => {
    const workflow = invertWorkflow();
    delete workflow['10'];
    expect(specFromRow(row({ workflow }), [picture], commands)).toEqual({
      ok: false,
      problem: '/invert now puts image "picture" into Source.image, which this job\'s workflow does not have',
    });
  });
});

describe('recovering rows that need care', () => {
  const { world } = lives;
  const life = (dir: string, fake: FakeComfy, withCommands = true): Promise<BotLife> => lives.life(dir, fake, withCommands ? { commands } : {});

  async function queueImageJob(first: BotLife): Promise<string> {
    first.scheduler.pause();
    const bytes = await sharp({ create: { width: 8, height: 8, channels: 3, background: '#123456' } }).png().toBuffer();
    const rebuilt = specFromRow(row({ id: 'img-1' }), [picture], commands);
    if (!rebuilt.ok) throw new Error(rebuilt.problem);
    return first.submit(rebuilt.spec, [{ option: 'picture', filename: 'cat.png', mime: 'image/png', bytes }]).id;
  }

  it('uploads a recovered job\'s saved image again and binds it where the command says', async () => {
    const { dir, fake } = await world();
    const first = await life(dir, fake);
    const id = await queueImageJob(first);
    await first.crash();

    const second = await life(dir, fake);
    const { restored } = second.recover();
    await expect(restored[0]!.job.done).resolves.toBe('succeeded');
    const [prompt] = submittedPrompts(fake);
    const uploads = fake.requests.filter((r) => r.method === 'POST' && r.path.endsWith('/upload/image'));
    expect(uploads).toHaveLength(1);
    expect(prompt!.prompt['10']!.inputs.image).toMatch(/cat\.png$/);
    // Only the command's output node is delivered, not the preview of the source.
    expect(restored[0]!.job.outputs!.map((o) => o.node)).toEqual(['12']);
    expect(second.store.get(id)).toMatchObject({ state: 'succeeded', delivery: 'pending' });
  });

  it('fails a job whose command is gone, with the reason, and runs the others', async () => {
    const { dir, fake } = await world();
    const first = await life(dir, fake);
    const id = await queueImageJob(first);
    const plain = first.submit(spec('bob', 5)).id;
    await first.crash();

    const second = await life(dir, fake, false);
    const { restored, failed } = second.recover();
    const error = 'could not be resumed after a restart: the command /invert no longer exists, so its image input cannot be placed';
    expect(failed).toEqual([{ row: expect.objectContaining({ id, state: 'queued' }), error }]);
    expect(second.store.get(id)).toMatchObject({ state: 'failed', error });
    expect(restored.map((r) => r.job.id)).toEqual([plain]);
    await expect(restored[0]!.job.done).resolves.toBe('succeeded');
  });

  it('fails a job whose saved image is gone without showing server paths', async () => {
    const { dir, fake } = await world();
    const first = await life(dir, fake);
    const id = await queueImageJob(first);
    const path = first.store.get(id)!.images[0]!.path;
    await first.crash();
    rmSync(path);

    const second = await life(dir, fake);
    const { failed } = second.recover();
    expect(failed.map((f) => f.error)).toEqual(['could not be resumed after a restart: its saved input images could not be read']);
    expect(second.store.get(id)!.state).toBe('failed');
  });

  it('queues again a dispatched row that has no backend recorded', async () => {
    const { dir, fake } = await world();
    const first = await life(dir, fake);
    first.scheduler.pause();
    const id = first.submit(spec('ann', 6)).id;
    expect(first.store.transition(id, ['queued'], 'dispatched', { promptId: 'never-sent' })).toBe(true);
    await first.crash();

    const second = await life(dir, fake);
    const { restored } = second.recover();
    await expect(restored[0]!.job.done).resolves.toBe('succeeded');
    expect(submittedPrompts(fake).map((p) => p.promptId)).not.toContain('never-sent');
    expect(second.store.get(id)).toMatchObject({ state: 'succeeded', attempts: 1 });
  });

  it('hands back succeeded jobs whose results were never posted', async () => {
    const { dir, fake } = await world();
    const first = await life(dir, fake);
    const done = first.submit(spec('ann', 11));
    const posted = first.submit(spec('bob', 12));
    await Promise.all([done.done, posted.done]);
    first.store.recordDelivery(posted.id, { messageId: 'm-1', files: ['durable_00002_.png'] });
    await first.crash();

    const second = await life(dir, fake);
    const { restored, undelivered } = second.recover();
    expect(restored).toEqual([]);
    expect(undelivered.map((r) => [r.id, r.delivery])).toEqual([[done.id, 'pending']]);
  });
});

describe('in-flight rows whose backend is gone from the config', () => {
  async function orphan(maxTries: number): Promise<{ second: BotLife; id: string; fake: FakeComfy }> {
    const { dir, fake } = await lives.world();
    const first = await lives.life(dir, fake, { maxTries });
    first.scheduler.pause();
    const id = first.submit(spec('ann', 21)).id;
    expect(first.store.transition(id, ['queued'], 'running', { backend: 'old-gpu', promptId: 'on-old-gpu', attempts: 1 })).toBe(true);
    await first.crash();
    const second = await lives.life(dir, fake, { maxTries });
    return { second, id, fake };
  }

  it('runs the job on a configured backend and records where', async () => {
    const { second, id, fake } = await orphan(3);
    const [restored] = second.recover().restored;
    await expect(restored!.job.done).resolves.toBe('succeeded');
    const [prompt] = submittedPrompts(fake);
    expect(second.store.get(id)).toMatchObject({ state: 'succeeded', backend: 'gpu1', promptId: prompt!.promptId });
  });

  it('records the failure when no try is left', async () => {
    const { second, id } = await orphan(1);
    const [restored] = second.recover().restored;
    expect(restored!.job.state).toBe('failed');
    expect(second.store.get(id)).toMatchObject({
      state: 'failed',
      error: 'gave up after 1 try: backend old-gpu is no longer configured',
    });
    expect(second.store.unfinished()).toEqual([]);
  });
});
