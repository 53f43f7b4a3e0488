// Following /imagine jobs from the outside, through the two fakes only: where each job is in its life (for
// choosing and counting fault points), and how it ended (for the exactly-once verdict).
import type { FakeComfy } from '../fakes/comfy/index.js';
import { currentRevision, type FakeDiscord, type InvokeOptions, type MessageRevision, type StoredMessage } from '../fakes/discord/index.js';

/** Points of a job's life at which a fault can hit it. */
export const PHASES = ['queued', 'submitted', 'running', 'after-success', 'mid-upload'] as const;
export type Phase = (typeof PHASES)[number];

export interface TrackedJob {
  /** Unique prompt text, e.g. "durable-007": how the job is recognised in ComfyUI prompts and Discord cards. */
  readonly label: string;
  readonly token: string;
  readonly userId: string;
  /** The furthest phase seen so far. */
  phase: Phase;
  /** Every prompt id ComfyUI was sent for this job. */
  readonly promptIds: string[];
}

/** `cards`: messages that showed the job's card (more than one only after a legitimate move, e.g. token expiry). */
export type Verdict =
  | { kind: 'delivered'; cards: number }
  | { kind: 'failed'; message: string; cards: number }
  /** Results posted in more than one message. */
  | { kind: 'duplicated'; why: string }
  /** Not ended (yet): at the end of a run, a lost job. */
  | { kind: 'open'; why: string };

const RESULT_FILE = /^imagine_.*\.(png|webp|jpe?g)$/;

function hasResult(revision: MessageRevision): boolean {
  return revision.attachments.some((a) => RESULT_FILE.test(a.filename));
}

function titleOf(revision: MessageRevision): string {
  return String((revision.embeds[0] as { title?: unknown } | undefined)?.title ?? '');
}

function descriptionOf(revision: MessageRevision): string {
  return String((revision.embeds[0] as { description?: unknown } | undefined)?.description ?? '');
}

export class JobTracker {
  readonly jobs: TrackedJob[] = [];
  private readonly byPrompt = new Map<string, TrackedJob>();

  constructor(
    private readonly comfy: FakeComfy,
    private readonly discord: FakeDiscord,
  ) {
    comfy.events.on('prompt-queued', (promptId) => {
      const job = this.jobOfPrompt(promptId);
      if (!job) return;
      job.promptIds.push(promptId);
      this.advance(job, 'submitted');
    });
    comfy.events.on('step', (promptId) => this.advanceByPrompt(promptId, 'running'));
    comfy.events.on('prompt-done', (promptId, outcome) => {
      if (outcome === 'success') this.advanceByPrompt(promptId, 'after-success');
    });
    const onMessage = (message: StoredMessage) => {
      if (!hasResult(currentRevision(message))) return;
      for (const job of this.jobs) if (this.linked(job, message)) this.advance(job, 'mid-upload');
    };
    discord.events.on('message-create', onMessage);
    discord.events.on('message-update', onMessage);
  }

  /** `where`: the server (default the fake's first) or DM it is typed in. */
  async submit(label: string, userId: string, options: Record<string, string | number> = {}, where: Omit<InvokeOptions, 'userId'> = {}): Promise<TrackedJob> {
    const { token } = await this.discord.slash('imagine', { prompt: label, ...options }, { ...where, userId });
    const job: TrackedJob = { label, token, userId, phase: 'queued', promptIds: [] };
    this.jobs.push(job);
    return job;
  }

  /** Jobs not yet ended as far as Discord shows. */
  openJobs(): TrackedJob[] {
    return this.jobs.filter((job) => this.verdict(job).kind === 'open');
  }

  jobOfPrompt(promptId: string): TrackedJob | undefined {
    const known = this.byPrompt.get(promptId);
    if (known) return known;
    const request = this.comfy.requests.find(
      (r) => r.method === 'POST' && /\/prompt$/.test(r.path) && (r.body as { prompt_id?: string } | undefined)?.prompt_id === promptId,
    );
    const prompt = (request?.body as { prompt?: Record<string, { inputs: Record<string, unknown> }> } | undefined)?.prompt ?? {};
    const texts = Object.values(prompt).map((node) => node.inputs.text);
    const job = this.jobs.find((j) => texts.includes(j.label));
    if (job) this.byPrompt.set(promptId, job);
    return job;
  }

  /** Every message that belongs to the job: its card, and anything naming its label or job id. */
  messagesOf(job: TrackedJob): StoredMessage[] {
    return this.discord.messages.filter((m) => this.linked(job, m));
  }

  verdict(job: TrackedJob): Verdict {
    const card = this.discord.originalFor(job.token);
    const messages = this.messagesOf(job);
    const withResults = messages.filter((m) => m.history.some(hasResult));
    const cards = messages.filter((m) => m.history.some((r) => titleOf(r).startsWith('/imagine')));
    if (withResults.length > 1) return { kind: 'duplicated', why: `results posted in ${withResults.length} messages` };
    // The card that moved last is the one that counts.
    const latest = [...cards].sort((a, b) => currentRevision(a).at - currentRevision(b).at).at(-1) ?? card;
    if (!latest) return { kind: 'open', why: 'no card' };
    const now = currentRevision(latest);
    const title = titleOf(now);
    if (title.endsWith('Done') && withResults.length === 1) return { kind: 'delivered', cards: cards.length };
    if (title.endsWith('Failed') && withResults.length === 0 && descriptionOf(now).trim() !== '') {
      return { kind: 'failed', message: descriptionOf(now), cards: cards.length };
    }
    return { kind: 'open', why: `card says "${title || '(no title)'}" with ${withResults.length} result message(s)` };
  }

  private linked(job: TrackedJob, message: StoredMessage): boolean {
    if (message.interactionToken === job.token) return true;
    const jobId = this.jobIdOf(job);
    return message.history.some((r) => {
      const text = `${r.content}\n${JSON.stringify(r.embeds)}`;
      return text.includes(job.label) || (jobId !== null && text.includes(jobId));
    });
  }

  /** The job id, read from the card's buttons (`job:<id>:<action>`). */
  private jobIdOf(job: TrackedJob): string | null {
    const card = this.discord.originalFor(job.token);
    for (const revision of card?.history ?? []) {
      const text = JSON.stringify(revision.components);
      const match = /"job:([A-Za-z0-9_-]+):/.exec(text);
      if (match) return match[1] ?? null;
    }
    return null;
  }

  private advanceByPrompt(promptId: string, phase: Phase): void {
    const job = this.jobOfPrompt(promptId);
    if (job) this.advance(job, phase);
  }

  private advance(job: TrackedJob, phase: Phase): void {
    if (PHASES.indexOf(phase) > PHASES.indexOf(job.phase)) job.phase = phase;
  }
}

/** A small seeded generator (mulberry32): the same seed gives the same fault plan. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Prints the suite's line "<name>: faults injected: N, jobs lost: L" and returns the lost jobs with why. */
export function reportFaults(name: string, tracker: JobTracker, faults: number, detail = ''): string[] {
  const lost = tracker.jobs.flatMap((job) => {
    const verdict = tracker.verdict(job);
    return verdict.kind === 'open' || verdict.kind === 'duplicated' ? [`${job.label} (last seen ${job.phase}): ${verdict.kind}, ${verdict.why}`] : [];
  });
  console.log(`${name}: faults injected: ${faults}${detail ? ` (${detail})` : ''}, jobs: ${tracker.jobs.length}, jobs lost: ${lost.length}`);
  for (const line of lost) console.log(`  lost: ${line}`);
  return lost;
}

/** Resolves at the chosen point, calling `kill` synchronously inside the event that marks it. */
/** `uploading`: the job whose result upload the kill interrupted (already shown as delivered, yet hit). */
export function armKill(
  fakes: { comfy: FakeComfy; discord: FakeDiscord },
  phase: Phase,
  nth: number,
  step: number,
  kill: () => void,
  tracker: JobTracker,
): { fired: Promise<Phase>; disarm: () => void; uploading: TrackedJob[] } {
  const uploading: TrackedJob[] = [];
  const { comfy, discord } = fakes;
  let count = 0;
  let disarm = () => undefined as void;
  const fired = new Promise<Phase>((resolve) => {
    const hit = () => {
      disarm();
      kill();
      resolve(phase);
    };
    const onPrompt = () => ++count === nth && hit();
    const onStep = (_id: string, _node: string, value: number) => value === step && ++count === nth && hit();
    const onDone = (_id: string, outcome: string) => outcome === 'success' && ++count === nth && hit();
    const onMessage = (message: StoredMessage) => {
      const files = currentRevision(message).attachments.filter((a) => a.filename.startsWith('imagine_'));
      if (files.length === 0 || ++count !== nth) return;
      uploading.push(...tracker.jobs.filter((j) => tracker.messagesOf(j).includes(message)));
      hit();
    };
    if (phase === 'submitted') comfy.events.on('prompt-queued', onPrompt);
    if (phase === 'running') comfy.events.on('step', onStep);
    if (phase === 'after-success') comfy.events.on('prompt-done', onDone);
    if (phase === 'mid-upload') {
      discord.events.on('message-create', onMessage);
      discord.events.on('message-update', onMessage);
    }
    if (phase === 'queued') {
      void discord
        .waitFor((d) => tracker.jobs.some((j) => /Queued/.test(titleNow(d, j))), { timeoutMs: 20_000, description: 'a queued card' })
        .then(hit, () => undefined);
    }
    disarm = () => {
      comfy.events.off('prompt-queued', onPrompt);
      comfy.events.off('step', onStep);
      comfy.events.off('prompt-done', onDone);
      discord.events.off('message-create', onMessage);
      discord.events.off('message-update', onMessage);
    };
  });
  return { fired, disarm, uploading };
}

export function titleNow(discord: FakeDiscord, job: TrackedJob): string {
  const card = discord.originalFor(job.token);
  if (!card) return '';
  return String((currentRevision(card).embeds[0] as { title?: unknown } | undefined)?.title ?? '');
}
