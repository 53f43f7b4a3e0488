// A server's admins add their own command from a workflow saved in ComfyUI (UI format), adjust the proposal
// (select menu, modal), save it, use it, list it, export it and remove it, across a bot restart. The command
// exists only in that server; every bad input gets one clear line and nothing is saved.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { beforeAll, describe, expect, it } from 'vitest';
import { currentRevision, type StoredMessage } from '../fakes/discord/index.js';
import { botReady, ephemeralAnswerOf, finalCardOf, REPO_ROOT, spawnBot, stopBot, TEMPLATE_CHECKPOINT, useE2E } from './harness.js';

const ALPHA = '8200000000000000001';
const BETA = '8200000000000000002';
const ADMIN = '9400000000000000001';
const MEMBER = '9400000000000000002';
const BETA_ADMIN = '9400000000000000003';
/** A server the bot is not in (any more). */
const GONE = '8200000000000000099';
const STOCK_UI = readFileSync(join(REPO_ROOT, 'test/fixtures/import/stock.ui.json'));

const e2e = useE2E({
  discord: { guilds: [{ id: ALPHA, name: 'Alpha' }, { id: BETA, name: 'Beta' }] },
  comfy: { models: { checkpoints: [TEMPLATE_CHECKPOINT, 'sd15.safetensors'] } },
});

beforeAll(() => {
  const { discord } = e2e();
  discord.addMember({ id: ADMIN, username: 'alpha-admin', roles: ['Moderator'], guildId: ALPHA });
  discord.addMember({ id: MEMBER, username: 'alpha-member', roles: ['Member'], guildId: ALPHA });
  discord.addMember({ id: BETA_ADMIN, username: 'beta-admin', roles: ['Moderator'], guildId: BETA });
});

const json = (name: string, value: unknown) => ({ name, bytes: Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)), contentType: 'application/json', option: 'workflow' });

/** `/comfy command add` with a file; the ephemeral answer's text (content or embeds). */
async function add(name: string, file: ReturnType<typeof json>, userId = ADMIN): Promise<{ text: string; token: string }> {
  const { token } = await e2e().discord.slash('comfy command add', { name }, { userId, guildId: ALPHA, attachments: [file] });
  const reply = await ephemeralAnswerOf(e2e().discord, token);
  return { text: reply.content || JSON.stringify(reply.embeds), token };
}

async function answer(command: string, options: Record<string, string> = {}, guildId = ALPHA, userId = ADMIN): Promise<string> {
  const { token } = await e2e().discord.slash(command, options, { userId, guildId });
  const reply = await ephemeralAnswerOf(e2e().discord, token);
  return reply.content || JSON.stringify(reply.embeds);
}

function originalOf(token: string): StoredMessage {
  const id = e2e().discord.interactions.find((i) => i.token === token)?.originalMessageId;
  const message = id === undefined ? undefined : e2e().discord.message(id);
  if (!message) throw new Error(`no reply for ${token}`);
  return message;
}

const guildNames = (guildId: string) => e2e().discord.commands(guildId).commands.map((c) => c['name']);

async function restart(whileStopped: () => void = () => undefined): Promise<void> {
  const run = e2e();
  await stopBot(run.bot);
  whileStopped();
  run.bot = spawnBot(run, { dataDir: run.dataDir });
  await botReady(run);
}

describe('a server command from a UI-format workflow', () => {
  let prompt: string;

  it('is proposed, adjusted with the select menu and the modal, and saved in that server only', async () => {
    const { token, text } = await add('foxes', json('My Foxes.json', STOCK_UI.toString()));
    expect(text).toContain('New command /foxes');
    const message = originalOf(token);
    const select = currentRevision(message).components.flatMap((row) => (row as { components: Record<string, unknown>[] }).components).find((c) => c['type'] === 3)!;
    const offered = (select['options'] as { value: string }[]).map((o) => o.value);
    expect(offered).toEqual(expect.arrayContaining(['seed', 'steps', 'cfg', 'width', 'height']));
    const customId = (action: string) => String(select['custom_id']).replace(/:keep$/, `:${action}`);
    // Drop cfg.
    await e2e().discord.select(message.id, String(select['custom_id']), offered.filter((o) => o !== 'cfg'), { userId: ADMIN, guildId: ALPHA });
    await e2e().discord.waitFor((d) => JSON.stringify(currentRevision(d.message(message.id)!).embeds).includes('➖ **cfg**'));
    await e2e().discord.button(message.id, customId('edit'), { userId: ADMIN, guildId: ALPHA });
    await e2e().discord.waitFor((d) => d.interactions.some((i) => i.response?.type === 9));
    await e2e().discord.modalSubmit(customId('modal'), { description: 'Foxes on demand', limits: 'steps 30' }, { userId: ADMIN, guildId: ALPHA });
    await e2e().discord.waitFor((d) => JSON.stringify(currentRevision(d.message(message.id)!).embeds).includes('Foxes on demand'));
    await e2e().discord.button(message.id, customId('save'), { userId: ADMIN, guildId: ALPHA });
    await e2e().discord.waitFor((d) => currentRevision(d.message(message.id)!).content.includes('Saved /foxes'));

    const registered = e2e().discord.commands(ALPHA).commands.find((c) => c['name'] === 'foxes')!;
    expect(registered['description']).toBe('Foxes on demand');
    const options = registered['options'] as { name: string; type: number; required?: boolean; max_value?: number }[];
    expect(options.map((o) => o.name)).not.toContain('cfg');
    expect(options.find((o) => o.name === 'steps')?.max_value).toBe(30);
    prompt = options.find((o) => o.required && o.type === 3)!.name;
    // Not global, not in the other server.
    expect(e2e().discord.commands().commands.map((c) => c['name'])).not.toContain('foxes');
    expect(guildNames(BETA)).not.toContain('foxes');
    await expect(e2e().discord.slash('foxes', { [prompt]: 'x' }, { userId: BETA_ADMIN, guildId: BETA })).rejects.toThrow(/not registered/);
    expect(await answer('help', {}, ALPHA, MEMBER)).toContain('foxes');
    // Members can save their own values for it, like for any command.
    expect(await answer('settings set', { command: 'foxes', option: 'steps', value: '12' }, ALPHA, MEMBER)).toContain('12');
    expect(await answer('help', {}, BETA, BETA_ADMIN)).not.toContain('foxes');
  }, 60_000);

  it('runs through the normal submission path and delivers', async () => {
    const { token } = await e2e().discord.slash('foxes', { [prompt]: 'a red fox' }, { userId: MEMBER, guildId: ALPHA });
    const card = await finalCardOf(e2e(), token, 'Done');
    expect(currentRevision(card).attachments.length).toBeGreaterThan(0);
  }, 60_000);

  it('is listed, survives a restart, is exported and removed', async () => {
    expect(await answer('comfy command list')).toMatch(/\/foxes\*\* Foxes on demand/);
    // A command stored for a server the bot has since left: Discord refuses its registration (404 Unknown Guild),
    // which is logged and does not keep the bot from starting.
    await restart(() => {
      const db = new Database(join(e2e().dataDir, 'comfycord.db'));
      db.prepare('INSERT INTO guild_commands SELECT ?, name, command_file, template, created_by, created_at FROM guild_commands WHERE name = ?').run(GONE, 'foxes');
      db.close();
    });
    await e2e().bot.waitForLine((line) => line.includes("registering a server's own commands failed") && line.includes(GONE), 5000, 'the refused registration');
    expect(guildNames(ALPHA)).toContain('foxes');
    const { token } = await e2e().discord.slash('foxes', { [prompt]: 'after the restart' }, { userId: MEMBER, guildId: ALPHA });
    expect(currentRevision(await finalCardOf(e2e(), token, 'Done')).attachments.length).toBeGreaterThan(0);
    expect(await answer('comfy command list')).toContain('/foxes');

    const exported = await e2e().discord.slash('comfy command export', { name: 'foxes' }, { userId: ADMIN, guildId: ALPHA });
    const files = (await ephemeralAnswerOf(e2e().discord, exported.token)).attachments;
    expect(files.map((f) => f.filename).sort()).toEqual(['foxes.json', 'foxes.yaml']);
    const yaml = files.find((f) => f.filename === 'foxes.yaml')!.bytes.toString();
    expect(yaml).toContain('name: foxes');
    expect(yaml).toContain('proposed by `/comfy command add My Foxes.json`');
    expect(yaml).toContain('description: Foxes on demand');
    const template = JSON.parse(files.find((f) => f.filename === 'foxes.json')!.bytes.toString()) as Record<string, { class_type: string }>;
    expect(Object.values(template).map((n) => n.class_type)).toContain('KSampler');

    expect(await answer('comfy command remove', { name: 'foxes' })).toContain('Removed /foxes');
    await e2e().discord.waitFor((d) => !d.commands(ALPHA).commands.some((c) => c['name'] === 'foxes'));
    expect(await answer('comfy command list')).toContain('no commands of its own');
  }, 90_000);
});

describe('bad input gets one line and nothing is saved', () => {
  const uiWith = (type: string) => {
    const ui = JSON.parse(STOCK_UI.toString()) as { nodes: { type: string }[] };
    ui.nodes[0]!.type = type;
    return ui;
  };
  const manyImages = Object.fromEntries([
    ...Array.from({ length: 26 }, (_, i) => [`${i + 1}`, { class_type: 'LoadImage', inputs: { image: 'a.png' } }]),
    ['99', { class_type: 'PreviewImage', inputs: { images: ['1', 0] } }],
  ]);

  it.each([
    ['a member without Manage Server', 'ok', json('a.json', STOCK_UI.toString()), /Only this server's admins/, MEMBER],
    ['a name Discord refuses', 'Bad Name', json('a.json', STOCK_UI.toString()), /not a name Discord accepts/, ADMIN],
    ['a built-in name', 'queue', json('a.json', STOCK_UI.toString()), /built-in/, ADMIN],
    ['a file that is not .json', 'pic', { ...json('a.png', 'x'), contentType: 'image/png' }, /not a \.json file/, ADMIN],
    ['not JSON', 'broken', json('broken.json', '{ nope'), /is not JSON/, ADMIN],
    ['not a workflow', 'hello', json('hello.json', { hello: 1 }), /not a ComfyUI workflow/, ADMIN],
    ['a node no backend has', 'custom', json('custom.json', uiWith('FancyCustomNode')), /FancyCustomNode/, ADMIN],
    ['no output node', 'nooutput', json('nooutput.json', { '1': { class_type: 'CheckpointLoaderSimple', inputs: { ckpt_name: 'sd15.safetensors' } } }), /no output node/, ADMIN],
    ['more than 25 options', 'many', json('many.json', manyImages), /26 options and Discord allows 25/, ADMIN],
  ])('%s', async (_what, name, file, expected, userId) => {
    const { text } = await add(name, file, userId);
    expect(text).toMatch(expected);
    expect(text.split('\n')).toHaveLength(1);
    expect(guildNames(ALPHA)).toEqual([]);
    expect(await answer('comfy command list')).toContain('no commands of its own');
  }, 30_000);

  it('refuses a file declared larger than the cap without downloading it', async () => {
    const big = json('big.json', `{"pad":"${'x'.repeat(2 * 1024 * 1024)}"}`);
    const { text } = await add('big', big);
    expect(text).toMatch(/^Not added: big\.json is \d+ KiB; a workflow file may be at most 2048 KiB\.$/);
    expect(e2e().discord.requests.filter((r) => r.route === 'GET /attachments/:id/:name' && r.path.includes('big.json'))).toEqual([]);
    // The same route does serve the files the bot does download.
    expect(e2e().discord.requests.some((r) => r.route === 'GET /attachments/:id/:name')).toBe(true);
  });

  it('refuses at Save what the backend would refuse (a checkpoint it does not have), saving nothing', async () => {
    const { token } = await add('nockpt', json('nockpt.json', STOCK_UI.toString().replace('sd15.safetensors', 'gone.safetensors')));
    const message = originalOf(token);
    const save = currentRevision(message).components.flatMap((row) => (row as { components: Record<string, unknown>[] }).components).find((c) => String(c['custom_id']).endsWith(':save'))!;
    const click = await e2e().discord.button(message.id, String(save['custom_id']), { userId: ADMIN, guildId: ALPHA });
    expect((await ephemeralAnswerOf(e2e().discord, click.token)).content).toMatch(/^Not saved: .*"gone\.safetensors"/);
    expect(guildNames(ALPHA)).toEqual([]);
    expect(await answer('comfy command list')).toContain('no commands of its own');
  });

  it('refuses the name of a global command, saying which wins', async () => {
    const { text } = await add('imagine', json('a.json', STOCK_UI.toString()));
    expect(text).toMatch(/global commands; a server command cannot take its name/);
  });
});
