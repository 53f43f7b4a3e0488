import { describe, expect, it } from 'vitest';
import { deliveryTimes, previewAges, type BotRunResult, type CardRecord } from './botRun.js';
import type { PreviewEdit } from './sut/bot.js';

function card(r: Partial<CardRecord>): CardRecord {
  return { jobId: 'j1', promptId: 'p1', finalTitle: '/imagine · Done', finalText: '', finalAt: 0, jobFinishedAt: null, edits: 2, ...r };
}

const memory = { rss: 0, heapTotal: 0, heapUsed: 0, external: 0, arrayBuffers: 0 };

function run(cards: CardRecord[], previewEdits: PreviewEdit[] = []): BotRunResult {
  return {
    workload: { jobs: cards.length, channels: 1, backends: 1, steps: 3, stepDelayMs: 100, previews: true, arrivalsPerSecond: 1 },
    cards,
    figures: { cpuUserMs: 0, cpuSystemMs: 0, maxRssBytes: 0, eventLoopDelayMs: { p50: 0, p99: 0, max: 0 }, previewEdits, framesReceived: 3, framesSuperseded: 0, memory: { atStart: memory, atPeak: memory }, cpuRooms: null, cpuProfilePath: null },
    stepTimes: new Map([['p1', [1000, 1100, 1200]]]),
    doneTimes: new Map([['p1', 1300]]),
    rateLimitHits: {},
    discordRequests: {},
    durationMs: 0,
    idle: null,
    warmUpCpuPerJob: [],
  };
}

describe('figures derived from a bot run', () => {
  it('ages each preview edit from when its frame left the fake ComfyUI', () => {
    const r = run([card({})], [{ jobId: 'j1', frame: 1, at: 1150 }, { jobId: 'j1', frame: 3, at: 1450 }]);
    expect(previewAges(r)).toEqual([150, 250]);
  });

  it('refuses an edit showing a frame no fake sent, or of a job with no known prompt', () => {
    expect(() => previewAges(run([card({})], [{ jobId: 'j1', frame: 4, at: 1 }]))).toThrow('job j1: an edit showed preview frame 4, which no fake ComfyUI recorded sending');
    expect(() => previewAges(run([card({ promptId: null })], [{ jobId: 'j1', frame: 1, at: 1 }]))).toThrow('job j1: an edit showed preview frame 1');
  });

  it('splits delivery at the end of the job, only for cards that reached Done', () => {
    const r = run([
      card({ finalAt: 1420, jobFinishedAt: 1350 }),
      card({ jobId: 'j2', finalTitle: '/imagine · Failed', finalAt: 1500 }),
      card({ jobId: 'j3', promptId: null, finalAt: 1500 }),
      card({ jobId: 'j4', finalAt: 1400 }),
    ]);
    expect(deliveryTimes(r)).toEqual([
      { total: 120, job: 50, card: 70 },
      { total: 100, job: null, card: null },
    ]);
  });
});
