// One run of the bot workload: N users each send /imagine in one of C channels at a fixed arrival rate; the real
// bot (sut/bot.ts, its own process) runs each job on a pool of fake ComfyUI servers and keeps one card per job on
// the fake Discord. The bench watches both fakes: when each preview frame and each execution_success left the fake
// ComfyUI, and when the fake Discord stored each card's final state.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as wait } from 'node:timers/promises';
import { openJobStore } from '../src/jobs/store.js';
import { currentRevision, startFakeDiscord, type FakeDiscord, type StoredMessage } from '../test/fakes/discord/index.js';
import { startComfyPool, type ComfyPool } from './fakes.js';
import { Child, now } from './ipc.js';
import type { BotFigures, BotParams, IdleFigures, MeasureOptions } from './sut/bot.js';

export interface BotWorkload {
  jobs: number;
  channels: number;
  backends: number;
  steps: number;
  /** Per node and per sampler step: 100 ms = 10 previews a second. */
  stepDelayMs: number;
  previews: boolean;
  /** Slash commands per second. */
  arrivalsPerSecond: number;
  /** Profile the bot's CPU by room over the measured window (the profiler's own cost lands in that run's CPU). */
  profile?: boolean;
  /** After the jobs, measure the bot's CPU over a window as long as theirs with no job (its fixed cost). */
  idle?: boolean;
  /** Watch the bot's event-loop delay over the measured wave (its own 10 ms timer: leave off where CPU counts). */
  watchEventLoop?: boolean;
  /**
   * Unmeasured waves of the same jobs before the measured one. V8 optimises a function only after some hundreds
   * of calls, so a bot fresh from start-up runs its per-job code unoptimised and compiles it in the background:
   * a one-off per process, which these waves pay before the steady state is measured (each one's CPU per job is
   * still reported).
   */
  warmUpWaves?: number;
}

export interface CardRecord {
  jobId: string;
  promptId: string | null;
  /** Title of the final state: Done, Failed, Cancelled, Not queued. */
  finalTitle: string;
  /** The final card's text (says why, for a refusal or a failure). */
  finalText: string;
  /** When the fake Discord stored the final state, epoch ms. */
  finalAt: number;
  /** When the job itself ended (outputs downloaded), as the bot's job store recorded it (epoch ms, whole ms). */
  jobFinishedAt: number | null;
  /** Edits of the card after its first state (the interaction's answer). */
  edits: number;
}

export interface BotRunResult {
  workload: BotWorkload;
  cards: CardRecord[];
  figures: BotFigures;
  stepTimes: ReadonlyMap<string, number[]>;
  doneTimes: ReadonlyMap<string, number>;
  /** 429s the fake Discord answered, by route. */
  rateLimitHits: Record<string, number>;
  /** Requests the fake Discord answered in the measured window, by route. */
  discordRequests: Record<string, number>;
  /** First slash command to last final card. */
  durationMs: number;
  /** The bot's CPU over `durationMs` with the same backends connected and no job, when the workload asked for it. */
  idle: IdleFigures | null;
  /** Bot CPU per job (user + system, ms) of each warm-up wave, in order. */
  warmUpCpuPerJob: number[];
}

/** The checkpoint the shipped txt2img template loads; the fakes must have it for the scheduler to route jobs. */
const TEMPLATE_CHECKPOINT = 'v1-5-pruned-emaonly.safetensors';
const REPO_ROOT = fileURLToPath(new URL('..', import.meta.url));
const FINAL_TITLE = /· (Done|Failed|Cancelled|Not queued)$/;

const runs = new Map<string, Promise<BotRunResult>>();

/** Benchmarks that ask for the same workload in one bench invocation share one run. */
export function botRun(workload: BotWorkload): Promise<BotRunResult> {
  const key = JSON.stringify(workload);
  let run = runs.get(key);
  if (!run) {
    run = runWorkload(workload);
    runs.set(key, run);
  }
  return run;
}

/** Rejects with `message()` unless `promise` settles within `ms`; the timer never outlives the race. */
async function within<T>(promise: Promise<T>, ms: number, message: () => string): Promise<T> {
  const abort = new AbortController();
  const timeout = wait(ms, undefined, { signal: abort.signal }).then(() => {
    throw new Error(message());
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    abort.abort();
    timeout.catch(() => undefined);
  }
}

function userId(i: number): string {
  return `90000000000${String(i).padStart(6, '0')}`;
}

/** The card's one embed, in the shape the renderer gives it (the fake stores it as plain JSON). */
const embedOf = (message: StoredMessage) => currentRevision(message).embeds[0] as { title?: string; description?: string; footer?: { text?: string } } | undefined;
const titleOf = (message: StoredMessage): string => embedOf(message)?.title ?? '';
const jobIdOf = (message: StoredMessage): string | null => /^job (\S+)$/.exec(embedOf(message)?.footer?.text ?? '')?.[1] ?? null;

async function runWorkload(w: BotWorkload): Promise<BotRunResult> {
  const root = mkdtempSync(join(tmpdir(), 'comfycord-bench-'));
  const dataDir = join(root, 'data');
  let discord: FakeDiscord | undefined;
  let pool: ComfyPool | undefined;
  let bot: Child | undefined;
  try {
    discord = await startFakeDiscord({ guilds: [{ channels: Array.from({ length: w.channels }, (_, i) => ({ name: `bench-${i + 1}` })) }] });
    const d = discord;
    // one more user for the warm-up job
    for (let i = 0; i <= w.jobs; i++) d.addMember({ id: userId(i), username: `user${i}` });
    const channelIds = d.guild().channels.map((c) => c.id);
    pool = await startComfyPool(w.backends, {
      objectInfo: 'full',
      models: { checkpoints: [TEMPLATE_CHECKPOINT] },
      samplerSteps: w.steps,
      stepDelayMs: w.stepDelayMs,
      previewMethod: w.previews ? 'auto' : 'none',
    });

    // The moment each card reached its final state on the fake Discord.
    const finals = new Map<string, number>();
    const onUpdate = (message: StoredMessage) => {
      if (!finals.has(message.id) && FINAL_TITLE.test(titleOf(message))) finals.set(message.id, now());
    };
    d.events.on('message-update', onUpdate);
    const finalFor = (token: string) => {
      const card = d.originalFor(token);
      return card && finals.has(card.id) ? card : undefined;
    };

    bot = Child.start('sut/bot.ts', 'bot process', 'production');
    const params: BotParams = {
      restUrl: d.restUrl, token: d.token, guildId: d.guildId, backends: pool.backends,
      commandsDir: join(REPO_ROOT, 'commands'), templatesDir: join(REPO_ROOT, 'templates'), dataDir,
    };
    await bot.call('start', params, 120_000);
    await d.waitFor((x) => x.commands(x.guildId).commands.some((c) => c.name === 'imagine'), { timeoutMs: 30_000, description: '/imagine registered' });

    // One job end to end before measuring: code that loads on first use is not the steady state being measured.
    const warmUp = await d.slash('imagine', { prompt: 'warm-up', steps: w.steps }, { userId: userId(w.jobs), channelId: channelIds[0]! });
    await d.waitFor(() => finalFor(warmUp.token), { timeoutMs: 60_000, description: 'the warm-up card to finish' });

    /** The workload's jobs, arriving at its rate; resolves with their tokens once every card is final. */
    const wave = async (n: number): Promise<string[]> => {
      const started = now();
      const tokens: string[] = [];
      for (let i = 0; i < w.jobs; i++) {
        const due = started + (i * 1000) / w.arrivalsPerSecond;
        if (due > now()) await wait(due - now());
        const { token } = await d.slash('imagine', { prompt: `bench job ${i} wave ${n}`, seed: n * w.jobs + i + 1, steps: w.steps }, { userId: userId(i), channelId: channelIds[i % channelIds.length]! });
        tokens.push(token);
      }
      // a generous bound so a stuck run ends the benchmark instead of hanging it
      const boundMs = 60_000 + w.jobs * (w.steps + 8) * w.stepDelayMs;
      await within(
        d.waitFor(() => tokens.every((t) => finalFor(t)) || undefined, { timeoutMs: boundMs + 1000 }),
        boundMs,
        () => `only ${tokens.filter((t) => finalFor(t)).length} of ${w.jobs} cards reached a final state within ${boundMs} ms`,
      );
      return tokens;
    };
    const warmUpCpuPerJob: number[] = [];
    for (let n = 1; n <= (w.warmUpWaves ?? 0); n++) {
      const before = await bot.call<number>('cpuMs');
      await wave(n);
      warmUpCpuPerJob.push(((await bot.call<number>('cpuMs')) - before) / w.jobs);
    }

    await bot.call('measureStart', { profile: w.profile ?? false, eventLoop: w.watchEventLoop ?? false } satisfies MeasureOptions);
    const requestsBefore = d.requests.length;
    const started = now();
    const tokens = await wave(0);
    const durationMs = now() - started;
    const figures = await bot.call<BotFigures>('report');
    const discordRequests: Record<string, number> = {};
    for (const r of d.requests.slice(requestsBefore)) discordRequests[r.route] = (discordRequests[r.route] ?? 0) + 1;
    const cards = tokens.map((token): CardRecord => {
      const card = d.originalFor(token)!;
      return { jobId: jobIdOf(card) ?? '', promptId: null, finalTitle: titleOf(card), finalText: embedOf(card)?.description ?? '', finalAt: finals.get(card.id)!, jobFinishedAt: null, edits: card.history.length - 1 };
    });
    d.events.off('message-update', onUpdate);
    const refused = cards.find((c) => c.finalTitle.endsWith('· Not queued'));
    if (refused) throw new Error(`the bot refused ${cards.filter((c) => c.finalTitle.endsWith('· Not queued')).length} of ${w.jobs} jobs, so the workload did not run: ${refused.finalText}`);
    const idle = w.idle ? await bot.call<IdleFigures>('idle', { windowMs: durationMs }, durationMs + 30_000) : null;
    await bot.stop();
    bot = undefined;
    // The bot's own job store says which prompt each job became.
    const store = openJobStore({ dataDir });
    try {
      for (const card of cards) {
        const row = card.jobId ? store.get(card.jobId) : null;
        card.promptId = row?.promptId ?? null;
        card.jobFinishedAt = row?.finishedAt ?? null;
      }
    } finally {
      store.close();
    }
    return { workload: w, cards, figures, stepTimes: pool.stepTimes, doneTimes: pool.doneTimes, rateLimitHits: { ...d.rateLimitHits }, discordRequests, durationMs, idle, warmUpCpuPerJob };
  } finally {
    await bot?.stop();
    await pool?.close();
    await discord?.close();
    rmSync(root, { recursive: true, force: true });
  }
}

/** The age of the preview on screen at each accepted edit that showed one: accepted − frame sent by ComfyUI. */
export function previewAges(run: BotRunResult): number[] {
  const promptOf = new Map(run.cards.map((c) => [c.jobId, c.promptId]));
  return run.figures.previewEdits.map((edit) => {
    const promptId = promptOf.get(edit.jobId);
    const sent = promptId ? run.stepTimes.get(promptId)?.[edit.frame - 1] : undefined;
    if (sent === undefined) throw new Error(`job ${edit.jobId}: an edit showed preview frame ${edit.frame}, which no fake ComfyUI recorded sending`);
    return edit.at - sent;
  });
}

export interface DeliveryTimes {
  /** execution_success on the fake ComfyUI → the fake Discord storing the Done card. */
  total: number;
  /** execution_success → the job ended in the bot (history read, outputs downloaded). */
  job: number | null;
  /** The job ended → the Done card stored (delivery planning, the channel pacer's queue, the edit itself). */
  card: number | null;
}

/** Per card that reached Done, where its delivery time went. */
export function deliveryTimes(run: BotRunResult): DeliveryTimes[] {
  const out: DeliveryTimes[] = [];
  for (const card of run.cards) {
    const done = card.promptId ? run.doneTimes.get(card.promptId) : undefined;
    if (done === undefined || !card.finalTitle.endsWith('· Done')) continue;
    const ended = card.jobFinishedAt;
    out.push({ total: card.finalAt - done, job: ended === null ? null : ended - done, card: ended === null ? null : card.finalAt - ended });
  }
  return out;
}
