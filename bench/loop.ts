// Loop: one member iterating on a result as members do: /imagine batch:4, then 10 follow-ups pressed one after
// another on the card each one produced (U, V, Zoom Out, Pan, Vary, Upscale, Reroll, Edit; the remix ones
// through their modal), with previews streaming. The real bot in its own process against the fake Discord, which
// enforces Discord's per-route rate limits: does the loop ever cause a 429?
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { currentRevision, startFakeDiscord, type FakeDiscord, type InteractionHandle, type StoredMessage } from '../test/fakes/discord/index.js';
import { DEFAULT_RATE_LIMITS } from '../test/fakes/discord/rateLimits.js';
import { startComfyPool, type ComfyPool } from './fakes.js';
import { Child, now } from './ipc.js';
import { atMost, fixed, type BenchResult } from './report.js';
import { median } from './stats.js';
import type { BotParams } from './sut/bot.js';

const REPO_ROOT = fileURLToPath(new URL('..', import.meta.url));
const STEPS = 10;
const STEP_DELAY_MS = 100;
const FINAL_TITLE = /· (Done|Failed|Cancelled|Not queued)$/;

/** Each follow-up: the button (by action, and image for per-output ones) pressed on the card of step `on`. */
interface FollowUp {
  on: number;
  button: string;
  /** A remix action: its modal is submitted with the prompt as prefilled. */
  modal?: boolean;
}

/** Step 0 is the /imagine grid; step k is the card follow-up k produced. */
const LOOP: readonly FollowUp[] = [
  { on: 0, button: 'pick:1' }, // 1: U1 from the grid
  { on: 0, button: 'vary:2' }, // 2: V2 from the grid
  { on: 1, button: 'zoom2:1', modal: true }, // 3: Zoom Out 2× on U1
  { on: 3, button: 'pan-right:1', modal: true }, // 4: Pan ➡️ on the zoom
  { on: 4, button: 'vary-subtle:1', modal: true }, // 5: Vary (Subtle) on the pan
  { on: 5, button: 'upscale:1' }, // 6
  { on: 5, button: 'reroll' }, // 7
  { on: 7, button: 'edit', modal: true }, // 8
  { on: 8, button: 'pan-left:1', modal: true }, // 9
  { on: 9, button: 'vary-strong:1', modal: true }, // 10
];

const titleOf = (message: StoredMessage): string => (currentRevision(message).embeds[0] as { title?: string } | undefined)?.title ?? '';
const buttonIds = (message: StoredMessage): string[] =>
  currentRevision(message).components.flatMap((row) => ((row as { components?: { custom_id?: string }[] }).components ?? []).flatMap((c) => (c.custom_id ? [c.custom_id] : [])));

async function finalCard(d: FakeDiscord, token: string, what: string): Promise<StoredMessage> {
  const card = await d.waitFor(
    (x) => {
      const message = x.originalFor(token);
      return message && FINAL_TITLE.test(titleOf(message)) ? message : undefined;
    },
    { timeoutMs: 60_000, description: what },
  );
  if (!titleOf(card).endsWith('· Done')) throw new Error(`${what} ended as "${titleOf(card)}"`);
  return card;
}

async function press(d: FakeDiscord, card: StoredMessage, step: FollowUp): Promise<InteractionHandle> {
  const id = buttonIds(card).find((candidate) => candidate.endsWith(`:${step.button}`));
  if (!id) throw new Error(`no "${step.button}" button on the card of step ${step.on} (it has: ${buttonIds(card).join(', ')})`);
  const pressed = await d.button(card.id, id);
  if (!step.modal) return pressed;
  const modal = await d.waitFor((x) => x.interactions.find((i) => i.token === pressed.token)?.response?.data, { timeoutMs: 10_000, description: `the ${step.button} modal` });
  const fields = (modal['components'] as { components: { custom_id: string; value?: string }[] }[]).map((row) => row.components[0]!);
  return d.modalSubmit(modal['custom_id'] as string, Object.fromEntries(fields.map((f) => [f.custom_id, f.value ?? 'a lighthouse'])), { messageId: card.id });
}

export async function runLoop(): Promise<BenchResult> {
  const root = mkdtempSync(join(tmpdir(), 'comfycord-bench-loop-'));
  let discord: FakeDiscord | undefined;
  let pool: ComfyPool | undefined;
  let bot: Child | undefined;
  try {
    discord = await startFakeDiscord({});
    const d = discord;
    pool = await startComfyPool(2, {
      objectInfo: 'full',
      models: { checkpoints: ['v1-5-pruned-emaonly.safetensors'], upscale_models: ['4x-UltraSharp.pth'] },
      samplerSteps: STEPS,
      stepDelayMs: STEP_DELAY_MS,
      previewMethod: 'auto',
    });
    bot = Child.start('sut/bot.ts', 'bot process', 'production');
    const params: BotParams = {
      restUrl: d.restUrl, token: d.token, guildId: d.guildId, backends: pool.backends,
      commandsDir: join(REPO_ROOT, 'commands'), templatesDir: join(REPO_ROOT, 'templates'), dataDir: join(root, 'data'),
    };
    await bot.call('start', params, 120_000);
    await d.waitFor((x) => x.commands(x.guildId).commands.some((c) => c.name === 'imagine'), { timeoutMs: 30_000, description: '/imagine registered' });

    const started = now();
    const first = await d.slash('imagine', { prompt: 'four lighthouses', batch: 4 });
    const cards: StoredMessage[] = [await finalCard(d, first.token, 'the /imagine grid')];
    const latencies: number[] = [];
    for (const [i, step] of LOOP.entries()) {
      const parent = d.message(cards[step.on]!.id)!;
      const t0 = now();
      const handle = await press(d, parent, step);
      cards.push(await finalCard(d, handle.token, `follow-up ${i + 1} (${step.button})`));
      latencies.push(now() - t0);
    }
    const durationMs = now() - started;
    const hits = d.rateLimitHits;
    const total = Object.values(hits).reduce((a, b) => a + b, 0);
    const routes = Object.entries(hits).map(([r, n]) => `${r}: ${n}`).join(', ');
    const edits = cards.reduce((sum, card) => sum + d.message(card.id)!.history.length - 1, 0);
    const { webhook, channel } = DEFAULT_RATE_LIMITS;
    return {
      rows: [
        { benchmark: 'loop', figure: `429s over a loop of ${LOOP.length} follow-ups`, value: `${total}${routes ? ` (${routes})` : ''}`, target: atMost(total, 0, '0') },
        { benchmark: 'loop', figure: 'follow-ups that reached Done', value: `${cards.length - 1}/${LOOP.length}`, target: atMost(LOOP.length - (cards.length - 1), 0, `${LOOP.length}/${LOOP.length}`) },
        { benchmark: 'loop', figure: 'press → Done card, median', value: `${fixed(median(latencies, 'follow-ups'), 0)} ms`, target: null },
      ],
      method: [
        `the REAL bot (src/main.ts startApp, shipped commands/ and templates/) in its own process; 2 fake ComfyUI with a ${STEPS}-step sampler at ${STEP_DELAY_MS} ms per step (a preview each step); fake Discord with Discord-like buckets (webhook ${webhook.limit}/${webhook.windowMs / 1000} s per token, channel ${channel.limit}/${channel.windowMs / 1000} s per channel)`,
        `one member in one channel: /imagine batch:4, then ${LOOP.map((s) => s.button.split(':')[0]).join(' → ')}, each pressed on the card the loop made before (remix modals submitted as prefilled) once that card is Done`,
        `${cards.length} cards, ${edits} card edits; loop took ${fixed(durationMs / 1000)} s`,
      ],
    };
  } finally {
    await bot?.stop();
    await pool?.close();
    await discord?.close();
    rmSync(root, { recursive: true, force: true });
  }
}
