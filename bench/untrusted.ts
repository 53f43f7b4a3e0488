// 7. What untrusted input costs the bot: memory held per queued job with a large photo attached, and the main
// thread's time on checking one prompt against the blocked lists (10,000 words and the worst patterns).
// Both print the way it was before this change next to the way it is now, measured in this run.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setFlagsFromString } from 'node:v8';
import vm from 'node:vm';
import sharp from 'sharp';
import type { JobImage, JobSpec } from '../src/jobs/job.js';
import { openJobStore } from '../src/jobs/store.js';
import { inspectImageInput } from '../src/media/input.js';
import { guildSettingsSchema } from '../src/jobs/store-settings.js';
import { dmSettings } from '../src/policy/dm.js';
import { foldedForms } from '../src/policy/fold.js';
import { checkPrompt, warmUpChecks } from '../src/policy/moderation.js';
import { startPatternWorker } from '../src/policy/patterns.js';
import { MAX_STRING_LENGTH } from '../src/templates/file-schema.js';
import { RegexWordMatcher } from '../test/policy/regex-word-matcher.js';
import type { Backend } from '../src/scheduler/backend.js';
import { Scheduler } from '../src/scheduler/scheduler.js';
import { atMost, below, fixed, type BenchResult } from './report.js';
import { median, quantile } from './stats.js';
import { available as cpuAvailable, mainThreadCpu } from './threadCpu.js';

const MB = 1024 * 1024;
const SIDE = 4096;
const LIMITS = { maxBytes: 25 * MB, maxPixels: 16 * MB };

/** A 4096² photo-like JPEG of about 10 MB: a gradient under heavy grain, quality 95. */
async function largePhoto(): Promise<Buffer> {
  const pixels = Buffer.alloc(SIDE * SIDE * 3);
  let seed = 7;
  for (let i = 0; i < pixels.length; i++) {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    const x = (i / 3) % SIDE;
    pixels[i] = Math.max(0, Math.min(255, Math.round((x / SIDE) * 160 + 40 + ((seed >> 16) % 91) - 45)));
  }
  return sharp(pixels, { raw: { width: SIDE, height: SIDE, channels: 3 } }).jpeg({ quality: 95 }).toBuffer();
}

/** A backend that is up but whose inventory is never read: jobs stay queued. */
function idleBackend(): Backend {
  return {
    name: 'idle',
    capacity: 1,
    weight: 1,
    healthy: true,
    inventory: undefined,
    on: () => undefined,
    off: () => undefined,
    run: () => new Promise(() => undefined),
    follow: () => {
      throw new Error('nothing to follow');
    },
    cancel: async () => 'not-found',
  };
}

const TARGET = { nodeId: '1', matchedBy: 'id', ref: '1.image', input: 'image' } as const;

function spec(image: Omit<JobImage, 'option' | 'filename' | 'target'>, n: number): JobSpec {
  return {
    owner: { userId: `user-${n}`, guildId: 'g', roles: [] },
    command: 'reimagine',
    workflow: { '1': { class_type: 'LoadImage', inputs: { image: '' } } },
    images: [{ option: 'image', filename: 'photo.jpg', target: TARGET, ...image } as JobImage],
  };
}

function collect(): () => void {
  setFlagsFromString('--expose-gc');
  return vm.runInNewContext('gc') as () => void;
}

function heldBytes(gc: () => void): number {
  gc();
  gc();
  const m = process.memoryUsage();
  return m.heapUsed + m.external;
}

/** Memory held per queued job: `make` builds one job's spec (doing the real work), N are queued. */
async function perQueuedJob(jobs: number, make: (n: number) => Promise<JobSpec>): Promise<number> {
  const gc = collect();
  const scheduler = new Scheduler({
    backends: [idleBackend()],
    limits: { perUserRunning: 1, perUserQueued: 1000, minIntervalSeconds: 0 },
    maxTries: 1,
    timeoutSeconds: 60,
  });
  try {
    const before = heldBytes(gc);
    for (let n = 0; n < jobs; n++) scheduler.submit(await make(n));
    return (heldBytes(gc) - before) / jobs;
  } finally {
    scheduler.close();
  }
}

/** The hostile shapes an admin could add, as many as a server may have (30). */
const WORST_PATTERNS = ['^(a+)+$', '(\\w+\\s?)*!x', '(a|ab)*c$', '^(\\s*\\s*\\s*)+x', '([a-z]+ ?)+[0-9]', '(.*a){12}z'];
const PATTERN_COUNT = 30;

function patternSet(): string[] {
  return Array.from({ length: PATTERN_COUNT }, (_, i) => WORST_PATTERNS[i % WORST_PATTERNS.length]! + (i < WORST_PATTERNS.length ? '' : `|never${i}`));
}

/** Prompts built to make a backtracking engine try every split. */
const HOSTILE_PROMPTS = ['a'.repeat(40) + '!', 'word '.repeat(200) + '!', 'ab'.repeat(500) + 'x', 'a '.repeat(2999) + '1'];

function seeded(seed: number): (n: number) => number {
  let state = seed;
  return (n) => {
    state = (Math.imul(state, 1103515245) + 12345) & 0x7fffffff;
    return Math.floor((state / 0x80000000) * n);
  };
}

/** `count` distinct blocked words of 4–10 letters, every tenth a two-word phrase; none of them occurs by chance. */
function wordList(count: number, seed: number): string[] {
  const random = seeded(seed);
  const word = () => Array.from({ length: 4 + random(7) }, () => 'bcdfghjklmnpqrstvwxz'[random(20)]).join('');
  const words = new Set<string>();
  while (words.size < count) words.add(words.size % 10 === 0 ? `${word()} ${word()}` : word());
  return [...words];
}

/** Prompts of the longest length a command takes, each aimed at a part of the word check (and the patterns). */
function maxLengthPrompts(words: readonly string[]): string[] {
  const fill = (unit: string) => unit.repeat(Math.ceil(MAX_STRING_LENGTH / unit.length)).slice(0, MAX_STRING_LENGTH);
  const phraseStarts = words.filter((w) => w.includes(' ')).map((w) => `${w.split(' ')[0]} x`);
  return [
    fill('a calm lake at dawn, soft light, '), // ordinary text
    fill(phraseStarts.join(' ') + ' '), // every phrase begun, none finished
    fill('a '), // one spelled-out run the length of the prompt
    fill('a.b-'), // the same with other separators
    fill('n1c3 b00k '), // look-alikes in every word: three variants
    fill('.,;'), // symbols only: a token per character
    fill('ｆｕｌｌ\u200bｗｉｄｔｈ ü '), // fullwidth, invisible and accented characters
    fill('नमस्ते दुनिया '), // another script, marks kept
  ];
}

/** Before: the admin's patterns as JavaScript RegExps in a vm with a 250 ms budget per prompt. */
function oldEngineBlockMs(patterns: readonly string[], prompt: string): number {
  const context = vm.createContext({ patterns: patterns.map((p) => new RegExp(p, 'iu')), text: prompt, found: false });
  const script = new vm.Script('found = patterns.some((p) => p.test(text))');
  const started = performance.now();
  try {
    script.runInContext(context, { timeout: 250 });
  } catch {
    // the budget ran out: the prompt was refused as "could not be checked"
  }
  return performance.now() - started;
}

/** Lets the pattern worker go back to sleep, so its CPU is accounted before the measurement ends. */
const settle = () => new Promise<void>((resolve) => setImmediate(resolve));

/** The main thread's CPU milliseconds over `check`, and its event-loop active (wall) time. */
async function measured(check: () => Promise<unknown>): Promise<{ cpu: number; active: number }> {
  const loop = performance.eventLoopUtilization();
  const stop = mainThreadCpu();
  await check();
  await settle();
  return { cpu: stop(), active: performance.eventLoopUtilization(loop).active };
}

const spread = (values: readonly number[]) => `${fixed(median(values), 2)} / ${fixed(quantile(values, 0.99), 2)} / ${fixed(Math.max(...values), 2)} ms`;

export async function runUntrusted(): Promise<BenchResult> {
  const photo = await largePhoto();
  const dataDir = mkdtempSync(join(tmpdir(), 'comfycord-bench-untrusted-'));
  const store = openJobStore({ dataDir });
  try {
    // Before: each submission re-encoded the attachment to an upright PNG and its job held those bytes.
    const oldPng = async () => sharp(photo, { failOn: 'truncated', limitInputPixels: LIMITS.maxPixels }).autoOrient().png().toBuffer();
    let oldSize = 0;
    const before = await perQueuedJob(3, async () => {
      const bytes = await oldPng();
      oldSize = bytes.length;
      return spec({ bytes }, 0);
    });
    // Now: the real input check (one decode, the JPEG kept as it came), saved to the store, the job holds a path.
    let keptSize = 0;
    const after = await perQueuedJob(10, async (n) => {
      const checked = await inspectImageInput(photo, LIMITS);
      if (!checked.ok) throw new Error(`the bench photo was refused: ${checked.reason}`);
      keptSize = checked.bytes.length;
      const saved = await store.saveInput(checked.bytes);
      return spec({ path: saved.path }, n);
    });

    // The blocked lists. What a member's prompt costs everyone else is the main thread's time on it: its own CPU
    // time over each whole check (robust to a loaded machine, where wall time also counts being descheduled).
    // The memory figures above left a heap of decoded photos behind: collected now, so a check is not charged
    // for the collection of another benchmark's garbage.
    collect()();
    const patterns = patternSet();
    const oldWorst = Math.max(...HOSTILE_PROMPTS.map((prompt) => oldEngineBlockMs(patterns, prompt)));
    const words = wordList(10_000, 3);
    const prompts = [...HOSTILE_PROMPTS, ...maxLengthPrompts(words)];

    // Start-up, as the bot does it: the pattern worker, then the checks warmed on the operator's DM lists (here
    // the 10,000 words and 30 patterns, compiled once).
    const workerStarted = performance.now();
    const stopWorker = await startPatternWorker();
    const workerStartMs = performance.now() - workerStarted;
    const dm = dmSettings({ blockedWords: words, blockedPatterns: patterns });
    const warm = await measured(() => warmUpChecks(dm));

    // Steady state: 10 rounds of every prompt in two options against 10,000 words and 30 patterns. Only the
    // operator's DM policy can be that long (a server may block 300 words), so the lists are held as the bot holds
    // that policy: one settings object, here a new one every round with new patterns (compiled on the worker,
    // and the words found again by content).
    const steady: number[] = [];
    const steadyActive: number[] = [];
    for (let round = 0; round < 10; round++) {
      const settings = dmSettings({ blockedWords: words, blockedPatterns: patterns.map((p) => `${p}|round${round}`) });
      for (const prompt of prompts) {
        const { cpu, active } = await measured(() => checkPrompt(settings, { prompt, negative: prompt }, ['prompt', 'negative']));
        steady.push(cpu);
        steadyActive.push(active);
      }
    }

    // The first prompt after a server's lists change: its 300 words (the most a server may block, each up to
    // 100 characters) and 30 patterns are compiled on the way; its settings are read from the store in the check,
    // as a job reads them.
    const changed: number[] = [];
    for (let round = 0; round < 20; round++) {
      const serverWords = wordList(300, 100 + round).map((w, i) => (i % 30 === 0 ? `${w} `.repeat(12).slice(0, 100).trim() : w));
      store.setGuildSettings('changed', { blockedWords: serverWords, blockedPatterns: patterns.map((p) => `${p}|change${round}`) });
      const prompt = prompts[round % prompts.length]!;
      changed.push((await measured(() => checkPrompt(store.guildSettings('changed'), { prompt, negative: prompt }, ['prompt', 'negative']))).cpu);
    }

    // Before: the word matcher this replaced (one alternation with lookbehind) on the same list, for a short and
    // a maximum-length plain prompt only (it takes seconds); V8 compiles its regex on the first, as the bot's did.
    const compared = [prompts[0]!, maxLengthPrompts(words)[0]!];
    const oldMatcher = new RegexWordMatcher(words);
    const oldWords = compared.map((prompt) => {
      const stop = mainThreadCpu();
      oldMatcher.blocks(foldedForms(prompt));
      oldMatcher.blocks(foldedForms(prompt));
      return stop();
    });
    // Its lists found once by content (a new settings object, as in each steady round), then by identity.
    const wordsOnly = guildSettingsSchema.parse({ blockedWords: words });
    await checkPrompt(wordsOnly, { prompt: 'a cat' }, ['prompt']);
    const newWords: number[] = [];
    for (const prompt of compared) newWords.push((await measured(() => checkPrompt(wordsOnly, { prompt, negative: prompt }, ['prompt', 'negative']))).cpu);
    await stopWorker();
    const newWorst = Math.max(...steady, ...changed);
    const cpuMethod = cpuAvailable ? 'the main thread\'s CPU time (process CPU minus every other thread\'s, from /proc)' : 'the event loop\'s active time (no /proc here: wall time)';

    return {
      rows: [
        { benchmark: 'untrusted', figure: `attachment (${SIDE}×${SIDE} JPEG)`, value: `${fixed(photo.length / MB, 1)} MB; kept ${fixed(keptSize / MB, 1)} MB on disk (was a ${fixed(oldSize / MB, 1)} MB PNG)`, target: null },
        { benchmark: 'untrusted', figure: 'memory per queued job, before → after', value: `${fixed(before / MB, 1)} MB → ${fixed(Math.max(0, after) / 1024, 0)} KB`, target: below(after, 2 * MB, '< 2 MB') },
        { benchmark: 'untrusted', figure: 'start-up: pattern worker; checks warmed, 10,000 words compiled', value: `${fixed(workerStartMs, 1)} ms; ${fixed(warm.cpu, 1)} ms CPU`, target: null },
        { benchmark: 'untrusted', figure: '10,000 words only, main thread, 41 / 6000-char prompt, before → after', value: `${oldWords.map((ms) => fixed(ms, 0)).join(' / ')} ms → ${newWords.map((ms) => fixed(ms, 2)).join(' / ')} ms`, target: null },
        { benchmark: 'untrusted', figure: 'words + patterns, main-thread CPU per check, median / p99 / max', value: spread(steady), target: atMost(Math.max(...steady), 10, '≤ 10 ms') },
        { benchmark: 'untrusted', figure: 'first check after a list change (300 words + 30 patterns)', value: spread(changed), target: atMost(Math.max(...changed), 10, '≤ 10 ms') },
        { benchmark: 'untrusted', figure: 'event-loop active (wall, load-sensitive), median / max', value: `${fixed(median(steadyActive), 2)} / ${fixed(Math.max(...steadyActive), 2)} ms`, target: null },
        { benchmark: 'untrusted', figure: 'main-thread block, worst blocked pattern, before → after', value: `${fixed(oldWorst, 1)} ms → ${fixed(newWorst, 2)} ms`, target: atMost(newWorst, 10, '≤ 10 ms') },
      ],
      method: [
        `memory: heap + external after two forced GCs, before and after queuing jobs in a real Scheduler whose one backend never takes work; per job = growth / jobs (3 jobs before, 10 after)`,
        `before: each job held the PNG re-encoding of the attachment (sharp autoOrient().png(), the earlier input path); after: inspectImageInput (one decode, original JPEG kept, metadata stripped) and JobStore.saveInput, the job holding the file's path`,
        `lists: ${PATTERN_COUNT} blocked patterns built from ${WORST_PATTERNS.length} catastrophic-backtracking shapes and 10,000 blocked words (every tenth a phrase); prompts: ${HOSTILE_PROMPTS.length} backtracking shapes (${HOSTILE_PROMPTS.map((p) => p.length).join('/')} characters) and ${prompts.length - HOSTILE_PROMPTS.length} of ${MAX_STRING_LENGTH} characters (plain, every phrase begun, spelled-out runs, look-alikes, symbols only, fullwidth + invisible, Devanagari), each in two options`,
        `per check: checkPrompt as the bot runs it (words on the main thread, patterns on the pattern worker), ${cpuMethod}, from the call until the answer is back and the worker asleep; 10 rounds, the lists held as the DM policy is (one settings object, new every round with new patterns, compiled on the worker); "first check after a list change": 20 new 300-word server lists (some words 100 characters) + 30 patterns written to the store, read from it in the check and compiled on the way`,
        `before: patterns as JavaScript RegExps in a vm with the 250 ms budget (wall time, CPU-bound); words: the regex matcher this replaced (test/policy/regex-word-matcher.ts) on the 41-character and the plain ${MAX_STRING_LENGTH}-character prompt, two options each, ${cpuMethod}`,
      ],
    };
  } finally {
    store.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}
