// Starting the real process: registration only when the commands changed, and one clear line when it cannot start.
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startFakeComfy, type FakeComfy } from '../fakes/comfy/index.js';
import { startFakeDiscord, type FakeDiscord } from '../fakes/discord/index.js';
import { botReady, REPO_ROOT, spawnBot, stopBot, TEMPLATE_CHECKPOINT } from './harness.js';

let discord: FakeDiscord;
let comfy: FakeComfy;
let root: string;

beforeAll(async () => {
  discord = await startFakeDiscord({ clock: 'manual', heartbeatIntervalMs: 500 });
  comfy = await startFakeComfy({ models: { checkpoints: [TEMPLATE_CHECKPOINT] } });
  root = mkdtempSync(join(tmpdir(), 'comfycord-startup-'));
});

afterAll(async () => {
  await discord?.close();
  await comfy?.close();
  rmSync(root, { recursive: true, force: true });
});

const commandWrites = () => discord.requests.filter((r) => r.method === 'PUT' && /\/applications\/\d+\/commands$/.test(r.path)).length;

it('registers the commands globally on the first start and leaves them alone on a restart', async () => {
  const dataDir = join(root, 'data');
  const first = spawnBot({ discord, comfy }, { dataDir });
  try {
    await botReady({ discord, comfy, bot: first });
    expect(commandWrites()).toBe(1);
    const names = discord.commands().commands.map((c) => (c as { name: string }).name).sort();
    expect(names).toEqual(['blend', 'cancel', 'comfy', 'help', 'imagine', 'info', 'outpaint', 'queue', 'reimagine', 'resize', 'settings', 'show', 'upscale', 'zoom15', 'zoom2']);
  } finally {
    await stopBot(first);
  }
  expect(await first.exited).toBe(0);

  const second = spawnBot({ discord, comfy }, { dataDir, env: { COMFYCORD_HTTP_PORT: '0' } });
  try {
    await botReady({ discord, comfy, bot: second });
    await second.waitForLine((line) => line.includes('slash commands are up to date'), 5000, 'the up-to-date line');
    expect(commandWrites()).toBe(1);
    // With COMFYCORD_HTTP_PORT set, the ops server reports Discord and the backend.
    const opsLine = await second.waitForLine((line) => line.includes('ops server listening'), 5000, 'the ops server');
    const health = await fetch(`${(JSON.parse(opsLine) as { url: string }).url}/healthz`);
    expect(health.status).toBe(200);
    expect(await health.json()).toEqual({ ok: true, discord: 'connected', backends: { 'comfy-1': 'up' } });
  } finally {
    await stopBot(second);
  }
}, 90_000);

it('registers in DISCORD_GUILD_ID when set, and again when a command file is added while it runs', async () => {
  const commandsDir = join(root, 'commands');
  cpSync(join(REPO_ROOT, 'commands'), commandsDir, { recursive: true });
  const bot = spawnBot({ discord, comfy }, {
    dataDir: join(root, 'watch-data'),
    env: { COMFYCORD_COMMANDS_DIR: commandsDir, COMFYCORD_TEMPLATES_DIR: join(REPO_ROOT, 'templates'), DISCORD_GUILD_ID: discord.guildId },
  });
  try {
    await botReady({ discord, comfy, bot });
    expect(discord.commands(discord.guildId).commands.map((c) => (c as { name: string }).name)).toContain('imagine');
    const imagine = readFileSync(join(commandsDir, 'imagine.yml'), 'utf8');
    writeFileSync(join(commandsDir, 'sketch.yml'), imagine.replace(/^name: imagine$/m, 'name: sketch'));
    await discord.waitFor((d) => d.commands(d.guildId).commands.some((c) => (c as { name: string }).name === 'sketch'), {
      timeoutMs: 10_000,
      description: '/sketch to be registered',
    });
  } finally {
    await stopBot(bot);
  }
}, 60_000);

it('exits with one clear line when ComfyUI cannot be reached', async () => {
  const gone = await startFakeComfy();
  const url = gone.url;
  await gone.close();
  const bot = spawnBot({ discord, comfy: { url } as FakeComfy }, { dataDir: join(root, 'unreachable') });
  expect(await bot.exited).toBe(1);
  const errors = bot.lines.filter((line) => line.startsWith('comfycord:'));
  expect(errors).toHaveLength(1);
  expect(errors[0]).toMatch(new RegExp(`^comfycord: cannot reach ComfyUI at ${url.replace(/[.]/g, '\\.')} \\(.+\\); start ComfyUI or set COMFY_URL$`));
}, 60_000);

it('exits with one clear line when Discord refuses the token', async () => {
  const bot = spawnBot({ discord, comfy }, { dataDir: join(root, 'badtoken'), env: { DISCORD_TOKEN: 'not-the-token' } });
  expect(await bot.exited).toBe(1);
  const errors = bot.lines.filter((line) => line.startsWith('comfycord:'));
  expect(errors).toEqual([expect.stringMatching(/^comfycord: could not log in to Discord at http:\/\/127\.0\.0\.1:\d+\/api: /)]);
}, 60_000);
