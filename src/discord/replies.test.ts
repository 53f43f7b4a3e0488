import { describe, expect, it } from 'vitest';
import type { APIEmbed } from 'discord.js';
import { renderHelp } from './helpReply.js';
import { renderQueue } from './queueReply.js';
import { renderStatus } from './statusReply.js';

const total = (e: APIEmbed) => (e.title?.length ?? 0) + (e.description?.length ?? 0) + (e.fields ?? []).reduce((n, f) => n + f.name.length + f.value.length, 0);

describe('renderQueue', () => {
  it("lists the caller's jobs with position, ETA and a link to the card", () => {
    const [embed] = renderQueue({
      yours: [
        { jobId: 'a', command: 'imagine', state: 'running', elapsedSeconds: 30, cardUrl: 'https://discord.com/channels/1/2/3' },
        { jobId: 'b', command: 'upscale', state: 'queued', position: 3, etaSeconds: 120 },
      ],
      queued: 5,
      running: 2,
      mode: 'open',
    }).embeds;
    expect(embed?.description).toBe('▶️ `/imagine` running for 30s · [card](https://discord.com/channels/1/2/3)\n⏳ `/upscale` #3 in line, starts in about 2m 00s');
    expect(embed?.fields?.map((f) => f.value)).toEqual(['2', '5']);
  });

  it("shows a server's admins the jobs of their server: who and which command, no prompt", () => {
    const [embed] = renderQueue({
      yours: [],
      server: [
        { ownerId: '11', command: 'imagine', state: 'running' },
        { ownerId: '12', command: 'upscale', state: 'queued', position: 4 },
      ],
      queued: 1,
      running: 1,
      mode: 'open',
    }).embeds;
    expect(embed?.fields?.[2]).toEqual({ name: "This server's jobs", value: '▶️ `/imagine` · <@11>\n⏳ #4 `/upscale` · <@12>' });
  });

  it('lists finished jobs whose results Discord has not taken yet', () => {
    const [embed] = renderQueue({ yours: [{ jobId: 'c', command: 'imagine', state: 'delivering', finishedSecondsAgo: 90, givesUpInSeconds: 3600 }], queued: 0, running: 0, mode: 'open' }).embeds;
    expect(embed?.description).toBe('📦 `/imagine` finished 1m 30s ago; its results are not delivered yet and are tried again for up to 1h 00m more');
  });

  it('says when there is nothing, and when the queue is paused or draining', () => {
    expect(renderQueue({ yours: [], queued: 0, running: 0, mode: 'paused' }).embeds[0]?.description).toMatch(/no jobs[\s\S]*paused by the bot's operators/);
    expect(renderQueue({ yours: [], queued: 0, running: 0, mode: 'open', serverMode: 'paused' }).embeds[0]?.description).toMatch(/This server's admins paused its jobs/);
    expect(renderQueue({ yours: [], queued: 0, running: 0, mode: 'draining' }).embeds[0]?.description).toMatch(/draining/);
  });

  it("on a standby: a job whose place is not known yet, and how old the leading process's report is when not fresh", () => {
    const yours = [{ jobId: 'a', command: 'imagine', state: 'queued' as const, position: null }];
    expect(renderQueue({ yours, queued: 1, running: 0, mode: 'open' }).embeds[0]?.description).toBe('⏳ `/imagine` waiting; its place in line is not known yet');
    expect(renderQueue({ yours: [], queued: 0, running: 0, mode: 'open', viewAge: 42_000 }).embeds[0]?.description).toMatch(
      /\n\n🕒 Places in line and backends as the leading process reported them 42s ago\.$/,
    );
    expect(renderQueue({ yours: [], queued: 0, running: 0, mode: 'open', viewAge: 'none' }).embeds[0]?.description).toMatch(
      /🕒 The leading process has not reported places in line or backends yet\.$/,
    );
  });
});

describe('renderHelp', () => {
  const commands = [
    { name: 'upscale', description: 'Enlarge an image', options: [{ name: 'image', description: '', required: true }] },
    { name: 'imagine', description: 'Create an image', options: [{ name: 'prompt', description: '', required: true }, { name: 'seed', description: '', required: false }] },
  ];

  it('lists commands alphabetically with required and [optional] options', () => {
    const [embed] = renderHelp(commands, { isAdmin: false }).embeds;
    expect(embed?.fields?.map((f) => f.name)).toEqual(['/imagine', '/upscale']);
    expect(embed?.fields?.[0]?.value).toBe('Create an image\n`prompt` `[seed]`');
    expect(embed?.description).not.toContain('/comfy');
    expect(renderHelp(commands, { isAdmin: true }).embeds[0]?.description).toContain('/comfy');
  });

  it('stays within limits with 100 long commands', () => {
    const many = Array.from({ length: 100 }, (_, i) => ({ name: `c${i}`, description: 'd'.repeat(500), options: [] }));
    const [embed] = renderHelp(many, { isAdmin: true }).embeds;
    expect(embed && total(embed)).toBeLessThanOrEqual(6000);
    expect(embed?.fields?.length).toBeLessThanOrEqual(25);
    expect(embed?.fields?.at(-1)?.value).toMatch(/more not shown/);
  });
});

describe('renderStatus', () => {
  it('shows up and down backends with queue and VRAM', () => {
    const [embed] = renderStatus({
      backends: [
        { name: 'gpu-a', up: true, running: 1, pending: 2, vram: { freeBytes: 6 * 1024 ** 3, totalBytes: 24 * 1024 ** 3 }, version: '0.3.64' },
        { name: 'gpu-b', up: false, error: 'connection refused', downForSeconds: 42 },
      ],
      mode: 'paused',
      queued: 3,
    }).embeds;
    expect(embed?.description).toBe('1 of 2 up · 3 jobs waiting · ⏸️ paused (jobs wait)');
    expect(embed?.fields?.[0]?.value).toBe('🟢 up · 1 running, 2 waiting\nVRAM 18.0 GB of 24.0 GB used (75%)\nComfyUI 0.3.64');
    expect(embed?.fields?.[1]?.value).toBe('🔴 down for 42s: connection refused');
    expect(embed?.color).toBe(0xfee75c);
  });

  it("leaves out why a backend is down when the view has no error (a server admin's), and shows this server's pause", () => {
    const [embed] = renderStatus({ backends: [{ name: 'gpu-b', up: false, downForSeconds: 5 }], mode: 'open', queued: 0, server: 'paused' }).embeds;
    expect(embed?.fields?.[0]?.value).toBe('🔴 down for 5s');
    expect(embed?.description).toBe('0 of 1 up · 0 jobs waiting · accepting jobs · this server: ⏸️ paused by its admins');
  });

  it("says how old the leading process's report of the backends is on a standby", () => {
    const [embed] = renderStatus({ backends: [{ name: 'gpu-a', up: true, running: 0, pending: 0 }], mode: 'open', queued: 0, viewAge: 90_000 }).embeds;
    expect(embed?.description).toBe('1 of 1 up · 0 jobs waiting · accepting jobs\n\n🕒 Places in line and backends as the leading process reported them 1m 30s ago.');
  });

  it('names Comfy API v2 backends, whose queue may not be visible', () => {
    const [embed] = renderStatus({
      backends: [
        { name: 'cloud', api: 'v2', up: true, running: null, pending: null },
        { name: 'proxy', api: 'v2', up: false, error: 'HTTP 401 unauthorized' },
      ],
      mode: 'open',
      queued: 0,
    }).embeds;
    expect(embed?.fields?.map((f) => f.value)).toEqual(['🟢 up · Comfy API v2 · queue not visible', '🔴 down · Comfy API v2: HTTP 401 unauthorized']);
  });

  it('lists the processes sharing the store, marks the leader and says since when it leads', () => {
    const now = 1_800_000_000_000;
    const row = (id: string, pid: number, shards: string, role: 'leader' | 'standby') => ({ id, host: 'vm', pid, shards, role, startedAt: now - 60_000, heartbeatAt: now - 2_000 });
    const embeds = renderStatus({
      backends: [{ name: 'a', up: true, running: 0, pending: 0 }],
      mode: 'open',
      queued: 0,
      cluster: { processes: [row('p1', 11, '0 of 2', 'leader'), row('p2', 12, '1 of 2', 'standby')], lease: { holder: 'p1', fence: 4, acquiredAt: now - 30_000, expiresAt: now + 5_000 }, now },
    }).embeds;
    expect(embeds[1]?.title).toBe('Processes (2)');
    expect(embeds[1]?.description).toBe(`Leader since <t:${(now - 30_000) / 1000}:R> (fencing number 4)`);
    expect(embeds[1]?.fields?.map((f) => f.name)).toEqual(['👑 leader · vm pid 11', 'standby · vm pid 12']);
    expect(embeds[1]?.fields?.[1]?.value).toBe(`shards 1 of 2 · started <t:${(now - 60_000) / 1000}:R> · heartbeat 2 s ago`);
  });

  it('says when no process holds the lease (between a leader lost and a standby taking over)', () => {
    const now = 1_800_000_000_000;
    const embeds = renderStatus({ backends: [], mode: 'open', queued: 0, cluster: { processes: [], lease: { holder: 'p1', fence: 4, acquiredAt: now - 30_000, expiresAt: now - 1 }, now } }).embeds;
    expect(embeds[1]?.description).toMatch(/^⚠️ No process holds the leader lease/);
  });

  it('is red when nothing is up', () => {
    expect(renderStatus({ backends: [{ name: 'a', up: false, error: 'x' }], mode: 'open', queued: 0 }).embeds[0]?.color).toBe(0xed4245);
  });
});
