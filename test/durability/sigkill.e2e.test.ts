// The real bot process, killed with SIGKILL at seeded random points of its jobs' lives (queued, submitted,
// running, after success before delivery, mid-upload) and started again on the same data dir, against the
// fake Discord and the fake ComfyUI. Every job must end delivered or failed with a message, exactly once.
// COMFYCORD_FAULT_SEED=<n> replays one plan.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { currentRevision } from '../fakes/discord/index.js';
import { botReady, buttonId, cardIn, spawnBot, startE2E, stopBot, titleOf, type BotProcess, type E2E } from '../e2e/harness.js';
import { armKill, JobTracker, PHASES, reportFaults, seededRandom, titleNow, type Phase } from './e2e-jobs.js';

const SEED = Number(process.env.COMFYCORD_FAULT_SEED ?? 20261129);
const KILLS = 8;
const JOBS_PER_LIFE = 3;
const USERS = ['700000000000000001', '700000000000000002', '700000000000000003'];
/**
 * Every submission must be accepted (the suite counts lost jobs, not refusals). Fair share by GPU time serves the
 * member with the least GPU time first, so with one or two dispatches per life one member's jobs may wait for a few
 * lives: room for all of a member's jobs (one per life) keeps the per-member queue limit out of the picture.
 */
const CONFIG = ['limits:', `  perUserQueued: ${KILLS + 2}`, ''].join('\n');

let e2e: E2E;
/** The bot process of the current life, stopped in afterAll if a test ends early. */
let live: BotProcess | undefined;
beforeAll(async () => {
  // A little time per node and step, so a run has a "running" stretch to be killed in.
  e2e = await startE2E({ logLevel: 'info', comfy: { stepDelayMs: 20 }, configYaml: CONFIG });
  for (const id of USERS) e2e.discord.addMember({ id, username: `user${id.slice(-1)}` });
}, 60_000);
afterAll(async () => {
  if (live && live !== e2e?.bot) await stopBot(live);
  await e2e?.close();
}, 30_000);

it('loses no job and duplicates nothing when the bot is SIGKILLed at random points', async () => {
  const random = seededRandom(SEED);
  const tracker = new JobTracker(e2e.comfy, e2e.discord);
  const points = new Map<Phase, number>(PHASES.map((p) => [p, 0]));
  let bot: BotProcess = e2e.bot;
  let next = 0;
  // Every phase at least once, the rest drawn at random, in a seeded order.
  const plan: Phase[] = [...PHASES, ...Array.from({ length: KILLS - PHASES.length }, () => PHASES[Math.floor(random() * PHASES.length)]!)]
    .map((p) => ({ p, key: random() }))
    .sort((a, b) => a.key - b.key)
    .map(({ p }) => p);

  for (let life = 0; life < KILLS; life += 1) {
    if (life > 0) {
      bot = live = spawnBot(e2e, { dataDir: e2e.dataDir, logLevel: 'info', configYaml: CONFIG });
      await botReady({ ...e2e, bot });
    }
    const phase = plan[life]!;
    const nth = 1 + Math.floor(random() * 2);
    const step = 1 + Math.floor(random() * 4);
    const victim = bot;
    const kill = () => victim.child.kill('SIGKILL');
    // Held while the jobs are accepted, so the kill point is chosen among jobs that all exist.
    e2e.comfy.hold();
    for (let j = 0; j < JOBS_PER_LIFE; j += 1) {
      next += 1;
      const job = await tracker.submit(`durable-${String(next).padStart(3, '0')}`, USERS[j % USERS.length]!, { steps: 4 });
      // A kill before the card exists would lose an interaction, not a job: wait until the job is accepted.
      await e2e.discord.waitFor((d) => /Queued|Running|Done|Failed/.test(titleNow(d, job)), { timeoutMs: 15_000, description: `${job.label} accepted` });
    }
    const armed = armKill(e2e, phase, nth, step, kill, tracker);
    e2e.comfy.release();
    // If the chosen point never comes (every job already ended), the bot is killed once all are done.
    const allDone = e2e.discord
      .waitFor(() => tracker.openJobs().length === 0, { timeoutMs: 60_000, description: 'every job ended' })
      .catch(() => undefined);
    await Promise.race([armed.fired, allDone]);
    armed.disarm();
    const open = tracker.openJobs();
    kill();
    await victim.exited;
    for (const job of open) points.set(job.phase, (points.get(job.phase) ?? 0) + 1);
    for (const job of armed.uploading) if (!open.includes(job)) points.set('mid-upload', (points.get('mid-upload') ?? 0) + 1);
  }

  bot = live = spawnBot(e2e, { dataDir: e2e.dataDir, logLevel: 'info', configYaml: CONFIG });
  await botReady({ ...e2e, bot });
  await e2e.discord
    .waitFor(() => tracker.openJobs().length === 0, { timeoutMs: 60_000, description: 'every job ended after the last restart' })
    .catch(() => undefined);
  const verdicts = tracker.jobs.map((job) => tracker.verdict(job));
  const injected = [...points.values()].reduce((a, b) => a + b, 0);
  const byPhase = [...points].map(([p, n]) => `${p} ${n}`).join(', ');
  const lost = reportFaults(`SIGKILL suite (seed ${SEED})`, tracker, injected, `${KILLS} kills at job points: ${byPhase}`);
  // No token expires here (the fake Discord's clock stands still), so a second card would be a duplicate too.
  const recarded = tracker.jobs.filter((_, i) => {
    const v = verdicts[i]!;
    return (v.kind === 'delivered' || v.kind === 'failed') && v.cards > 1;
  });
  console.log(`  delivered: ${verdicts.filter((v) => v.kind === 'delivered').length}, failed with a message: ${verdicts.filter((v) => v.kind === 'failed').length}`);

  expect(injected).toBeGreaterThanOrEqual(20);
  expect(lost).toEqual([]);
  expect(recarded.map((j) => j.label)).toEqual([]);

  // Result buttons still work on a job from the first life, after all those restarts (pressed after the
  // verdicts: the reroll's card shows the same prompt).
  const oldest = tracker.jobs[0]!;
  const card = e2e.discord.originalFor(oldest.token)!;
  const press = await e2e.discord.button(card.id, buttonId(currentRevision(card), 'reroll'), { userId: oldest.userId });
  const rerolled = await e2e.discord.waitFor((d) => cardIn(d, press.token, /Done|Failed/), { timeoutMs: 30_000, description: 'the reroll of the first job' });
  expect(titleOf(currentRevision(rerolled))).toMatch(/Done$/);
  await stopBot(bot);
}, 240_000);
