// End-to-end harness: the fake Discord and the fake ComfyUI in this process, the REAL bot as a child process
// (`node --import tsx src/cli/index.ts start`) pointed at them through its environment. Reused by the durability
// tests (SIGKILL and restart): `bot.kill('SIGKILL')`, then `startBot(fakes, { dataDir })` again on the same data.
import { spawn, type ChildProcess } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll } from 'vitest';
import { startFakeComfy, type FakeComfy, type FakeComfyOptions } from '../fakes/comfy/index.js';
import { startFakeComfyV2, type FakeComfyV2, type FakeV2Profile } from '../fakes/comfy-v2/index.js';
import {
  currentRevision,
  MessageFlags,
  startFakeDiscord,
  type FakeDiscord,
  type FakeDiscordOptions,
  type MessageRevision,
  type StoredMessage,
} from '../fakes/discord/index.js';

export const TEMPLATE_CHECKPOINT = 'v1-5-pruned-emaonly.safetensors';
export const REPO_ROOT = resolve(fileURLToPath(new URL('../..', import.meta.url)));
const ENTRY = join(REPO_ROOT, 'src', 'cli', 'index.ts');

export interface BotProcess {
  readonly child: ChildProcess;
  /** Every stdout and stderr line so far (pino JSON lines and anything else). */
  readonly lines: readonly string[];
  /** Resolves with the exit code (or the signal name) once the process has ended. */
  readonly exited: Promise<number | string>;
  /** Resolves with the first line (already printed or yet to come) that `match` accepts. */
  waitForLine(match: (line: string) => boolean, timeoutMs?: number, description?: string): Promise<string>;
  /** Sends the signal and waits for the exit. */
  kill(signal?: NodeJS.Signals): Promise<number | string>;
}

export interface BotEnvOptions {
  dataDir: string;
  /** Written to `<dataDir>/../config.yml` and passed as COMFYCORD_CONFIG. */
  configYaml?: string;
  logLevel?: string;
  env?: Record<string, string>;
}

export interface Fakes {
  discord: FakeDiscord;
  comfy: FakeComfy;
}

/** Starts the bot process against the fakes; does not wait for anything. */
export function spawnBot(fakes: Fakes, options: BotEnvOptions): BotProcess {
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '',
    HOME: process.env.HOME ?? tmpdir(),
    DISCORD_TOKEN: fakes.discord.token,
    DISCORD_API_URL: fakes.discord.restUrl,
    COMFY_URL: fakes.comfy.url,
    COMFYCORD_DATA_DIR: options.dataDir,
    LOG_LEVEL: options.logLevel ?? 'info',
    ...options.env,
  };
  if (options.configYaml !== undefined) {
    const path = join(options.dataDir, '..', 'config.yml');
    writeFileSync(path, options.configYaml);
    env.COMFYCORD_CONFIG = path;
  }
  const child = spawn(process.execPath, ['--import', 'tsx', ENTRY, 'start'], { cwd: REPO_ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  const lines: string[] = [];
  const newLine = new EventEmitter();
  const collect = (stream: NodeJS.ReadableStream | null) => {
    let rest = '';
    stream?.setEncoding('utf8');
    stream?.on('data', (chunk: string) => {
      const parts = (rest + chunk).split('\n');
      rest = parts.pop() ?? '';
      for (const line of parts) {
        lines.push(line);
        newLine.emit('line', line);
      }
    });
  };
  collect(child.stdout);
  collect(child.stderr);
  const exited = new Promise<number | string>((done) => child.once('exit', (code, signal) => done(code ?? signal ?? 'unknown')));
  let ended = false;
  void exited.then(() => (ended = true));

  const waitForLine: BotProcess['waitForLine'] = (match, timeoutMs = 20_000, description = 'a log line') =>
    new Promise((resolveLine, reject) => {
      const found = lines.find(match);
      if (found !== undefined) return resolveLine(found);
      const onLine = (line: string) => {
        if (!match(line)) return;
        cleanup();
        resolveLine(line);
      };
      const onExit = (code: number | string) => {
        cleanup();
        reject(new Error(`the bot exited (${code}) before ${description}; last lines:\n${lines.slice(-15).join('\n')}`));
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`no ${description} within ${timeoutMs} ms; last lines:\n${lines.slice(-15).join('\n')}`));
      }, timeoutMs);
      const cleanup = () => {
        clearTimeout(timer);
        newLine.off('line', onLine);
      };
      newLine.on('line', onLine);
      void exited.then(onExit);
    });

  return {
    child,
    lines,
    exited,
    waitForLine,
    kill: async (signal = 'SIGTERM') => {
      if (!ended) child.kill(signal);
      return exited;
    },
  };
}

export interface E2E extends Fakes {
  bot: BotProcess;
  dataDir: string;
  /** A temp folder for this run (holds dataDir and the config file). */
  root: string;
  /** The fake Comfy API v2 endpoint in front of `comfy`, when the run uses one (`v2` option). */
  v2: FakeComfyV2 | undefined;
  /** Kills the bot (SIGKILL if SIGTERM is not enough) and closes both fakes. Call in afterAll. */
  close(): Promise<void>;
}

export interface E2EOptions {
  discord?: FakeDiscordOptions;
  comfy?: FakeComfyOptions;
  configYaml?: string;
  /** Extra environment; a function when it needs the fakes' addresses. */
  env?: Record<string, string> | ((fakes: Fakes) => Record<string, string>);
  logLevel?: string;
  /**
   * Put a fake Comfy API v2 endpoint in front of the fake ComfyUI and point the bot at it
   * (`COMFY_URL=v2:<endpoint>|<ComfyUI>`, so discovery and the interrupt fallback use the ComfyUI).
   */
  v2?: { profile?: FakeV2Profile };
}

/** Both fakes and the bot, registered and connected. */
export async function startE2E(options: E2EOptions = {}): Promise<E2E> {
  const root = mkdtempSync(join(tmpdir(), 'comfycord-e2e-'));
  const dataDir = join(root, 'data');
  const discord = await startFakeDiscord({ clock: 'manual', heartbeatIntervalMs: 500, ...options.discord });
  // The shipped templates name this checkpoint; the fake's default list does not have it.
  const comfy = await startFakeComfy({ models: { checkpoints: [TEMPLATE_CHECKPOINT, 'sdxl.safetensors'] }, ...options.comfy });
  const fakes = { discord, comfy };
  const v2 = options.v2 ? await startFakeComfyV2({ upstream: comfy.url, ...options.v2 }) : undefined;
  const picked = pick(options, fakes);
  if (v2) {
    picked.env = { COMFY_URL: `v2:${v2.url}|${comfy.url}`, ...(v2.profile === 'cloud' ? { COMFY_API_KEY: 'cloud-key' } : {}), ...picked.env };
  }
  const bot = spawnBot(fakes, { dataDir, ...picked });
  const e2e: E2E = {
    ...fakes,
    v2,
    bot,
    dataDir,
    root,
    async close() {
      // The bot may have been replaced by a restart (durability tests): stop the current one.
      await stopBot(e2e.bot);
      await v2?.close();
      await discord.close();
      await comfy.close();
      rmSync(root, { recursive: true, force: true });
    },
  };
  try {
    await botReady(e2e);
  } catch (error) {
    await e2e.close();
    throw error;
  }
  return e2e;
}

/**
 * One E2E run for the whole file: started in beforeAll, closed in afterAll. Returns an accessor, because the run
 * exists only once beforeAll has finished.
 */
export function useE2E(options: E2EOptions = {}): () => E2E {
  let e2e: E2E | undefined;
  beforeAll(async () => {
    e2e = await startE2E(options);
  }, 60_000);
  afterAll(async () => {
    await e2e?.close();
  }, 30_000);
  return () => {
    if (!e2e) throw new Error('The E2E run is not up: useE2E() starts it in beforeAll, so read it inside tests');
    return e2e;
  };
}

function pick(options: E2EOptions, fakes: Fakes): Omit<BotEnvOptions, 'dataDir'> {
  return {
    ...(options.configYaml !== undefined ? { configYaml: options.configYaml } : {}),
    ...(options.env !== undefined ? { env: typeof options.env === 'function' ? options.env(fakes) : options.env } : {}),
    ...(options.logLevel !== undefined ? { logLevel: options.logLevel } : {}),
  };
}

/** Waits until the bot has registered its commands and says it runs. */
export async function botReady(e2e: Fakes & { bot: BotProcess }): Promise<void> {
  await e2e.bot.waitForLine((line) => line.includes('comfycord is running'), 30_000, 'the bot to start');
  await e2e.discord.waitFor((d) => d.commands().commands.length > 0 || d.commands(d.guildId).commands.length > 0, {
    timeoutMs: 10_000,
    description: 'command registration',
  });
}

/** SIGTERM, and SIGKILL when the process has not ended after the bot's own hard-exit window. */
export async function stopBot(bot: BotProcess): Promise<void> {
  const timer = setTimeout(() => bot.child.kill('SIGKILL'), 12_000);
  await bot.kill('SIGTERM');
  clearTimeout(timer);
}

// --- reading cards ---------------------------------------------------------------------------------------

export interface Embed {
  title?: string;
  description?: string;
  fields?: { name: string; value: string }[];
  image?: { url: string };
  footer?: { text: string };
}

export function embedOf(revision: MessageRevision): Embed | undefined {
  return revision.embeds[0] as Embed | undefined;
}

export function titleOf(revision: MessageRevision): string {
  return embedOf(revision)?.title ?? '';
}

/** Custom ids of the buttons on a revision. */
export function buttonIds(revision: MessageRevision): string[] {
  return revision.components.flatMap((row) => ((row as { components?: { custom_id?: string }[] }).components ?? []).map((c) => c.custom_id ?? ''));
}

export function buttonId(revision: MessageRevision, action: string): string {
  const id = buttonIds(revision).find((custom) => custom.split(':')[2] === action);
  if (!id) throw new Error(`no ${action} button on the card (buttons: ${buttonIds(revision).join(', ') || 'none'})`);
  return id;
}

/** The job card of an interaction once its current revision's title matches `state` (e.g. "Done"). */
export function cardIn(discord: FakeDiscord, token: string, state: string | RegExp): StoredMessage | undefined {
  const message = discord.originalFor(token);
  if (!message || message.deleted) return undefined;
  const title = titleOf(currentRevision(message));
  return (typeof state === 'string' ? title.endsWith(state) : state.test(title)) ? message : undefined;
}

/** Text form of every revision of a card: for failure messages and the README walkthrough. */
export function describeHistory(message: StoredMessage): string {
  return message.history
    .map((r, i) => {
      const e = embedOf(r);
      const fields = (e?.fields ?? []).map((f) => `${f.name}=${f.value}`).join(' ');
      const files = r.attachments.map((a) => `${a.filename} (${a.contentType}, ${a.size} B)`).join(', ');
      return `#${i} via ${r.via}: ${e?.title ?? '(no embed)'} | ${(e?.description ?? r.content).replace(/\n/g, ' / ')}${fields ? ` | ${fields}` : ''}${files ? ` | files: ${files}` : ''} | buttons: ${buttonIds(r).map((b) => b.split(':')[2]).join(',')}`;
    })
    .join('\n');
}

/** The final card of an interaction; on a timeout the card's history so far and the bot's last lines are in the error. */
export async function finalCardOf(
  run: E2E,
  token: string,
  state: string | RegExp = /Done|Failed|Cancelled|Not queued/,
  timeoutMs = 15_000,
): Promise<StoredMessage> {
  try {
    return await run.discord.waitFor((d) => cardIn(d, token, state), { timeoutMs, description: `the card to reach ${state}` });
  } catch (error) {
    const card = run.discord.originalFor(token);
    throw new Error(`${(error as Error).message}\ncard so far:\n${card ? describeHistory(card) : '(none)'}\nbot log tail:\n${run.bot.lines.slice(-8).join('\n')}`);
  }
}

/** The ephemeral answer to an interaction (a type-4 callback, or a follow-up after a deferred update). */
export async function ephemeralAnswerOf(discord: FakeDiscord, token: string): Promise<MessageRevision> {
  const message = await discord.waitFor((d) => {
    const interaction = d.interactions.find((i) => i.token === token);
    const ids = [interaction?.originalMessageId, ...(interaction?.followupIds ?? [])];
    return ids.map((id) => (id ? d.message(id) : undefined)).find((m) => m && (currentRevision(m).flags & MessageFlags.Ephemeral) !== 0 && currentRevision(m).content + JSON.stringify(currentRevision(m).embeds) !== '[]');
  }, { description: 'an ephemeral answer' });
  return currentRevision(message);
}
