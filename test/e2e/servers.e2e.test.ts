// Many servers, one bot: two servers share the real bot process. A server's admins hold, resume and drain their
// own server's jobs and see its queue; only the bot's operators (the application's owner, COMFYCORD_OPERATOR_IDS)
// act on the whole bot or a backend and see why a backend is down. DM commands follow the operator's dmPolicy.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { currentRevision } from '../fakes/discord/index.js';
import { botReady, cardIn, embedOf, ephemeralAnswerOf, finalCardOf, REPO_ROOT, spawnBot, stopBot, titleOf, useE2E, type Fakes } from './harness.js';

const ALPHA = '8100000000000000001';
const BETA = '8100000000000000002';
const ALPHA_ADMIN = '9300000000000000001';
const ALPHA_MEMBER = '9300000000000000002';
const BETA_MEMBER = '9300000000000000003';
const ENV_OPERATOR = '9300000000000000008';
const OWNER = '9300000000000000009';
/** A second backend nobody listens on: down, with an error that names its address. */
const DEAD_BACKEND = 'http://127.0.0.1:9';

// /imagine, usable in DMs too (guild_only: false), is the only command of this run.
const commandsDir = mkdtempSync(join(tmpdir(), 'comfycord-servers-commands-'));
writeFileSync(join(commandsDir, 'imagine.yml'), `guild_only: false\n${readFileSync(join(REPO_ROOT, 'commands', 'imagine.yml'), 'utf8')}`);

const env = (fakes: Fakes): Record<string, string> => ({
  COMFY_URL: `${fakes.comfy.url},${DEAD_BACKEND}`,
  COMFYCORD_OPERATOR_IDS: ENV_OPERATOR,
  COMFYCORD_COMMANDS_DIR: commandsDir,
});

const CONFIG = 'dmPolicy:\n  blockedWords: [dragon]\n';

const e2e = useE2E({
  discord: { guilds: [{ id: ALPHA, name: 'Alpha' }, { id: BETA, name: 'Beta' }], application: { owner: { id: OWNER, username: 'owner' } } },
  env,
  configYaml: CONFIG,
});

beforeAll(() => {
  const { discord } = e2e();
  discord.addMember({ id: ALPHA_ADMIN, username: 'alpha-admin', roles: ['Moderator'], guildId: ALPHA });
  discord.addMember({ id: ALPHA_MEMBER, username: 'alpha-member', roles: ['Member'], guildId: ALPHA });
  discord.addMember({ id: ENV_OPERATOR, username: 'env-operator', roles: ['Member'], guildId: ALPHA });
  discord.addMember({ id: BETA_MEMBER, username: 'beta-member', roles: ['Member'], guildId: BETA });
  // The owner is a plain member of Beta: no Manage Server anywhere.
  discord.addMember({ id: OWNER, username: 'owner', roles: [], guildId: BETA });
});

const finalCard = (token: string, state?: string | RegExp) => finalCardOf(e2e(), token, state);

/** Runs a command as `userId` in `guildId` and returns the text of its ephemeral answer. */
async function answer(command: string, userId: string, guildId: string, options: Record<string, string | boolean> = {}): Promise<string> {
  const { token } = await e2e().discord.slash(command, options, { userId, guildId });
  const reply = await ephemeralAnswerOf(e2e().discord, token);
  return reply.content || JSON.stringify(reply.embeds);
}

function imagine(userId: string, guildId: string, prompt: string) {
  return e2e().discord.slash('imagine', { prompt, steps: 4 }, { userId, guildId });
}

async function restartBot(): Promise<void> {
  const run = e2e();
  await stopBot(run.bot);
  run.bot = spawnBot(run, { dataDir: run.dataDir, env: env(run), configYaml: CONFIG });
  await botReady(run);
}

describe("a server's admins control their own server only", () => {
  it("/comfy pause holds only that server's jobs, across a restart; /comfy resume lets them run", async () => {
    expect(await answer('comfy pause', ALPHA_ADMIN, ALPHA)).toMatch(/^Paused for this server: .*Other servers are not affected\.$/);
    // Alpha's job comes first: on one backend it would run first were it not held.
    const alpha = await imagine(ALPHA_MEMBER, ALPHA, 'alpha waits');
    await e2e().discord.waitFor((d) => cardIn(d, alpha.token, 'Queued'), { description: "Alpha's card queued" });
    const beta = await imagine(BETA_MEMBER, BETA, 'beta runs');
    await finalCard(beta.token, 'Done');
    expect(titleOf(currentRevision(e2e().discord.originalFor(alpha.token)!))).toMatch(/Queued$/);

    await restartBot();
    const betaAgain = await imagine(BETA_MEMBER, BETA, 'beta runs after the restart');
    await finalCard(betaAgain.token, 'Done');
    expect(await answer('queue', ALPHA_MEMBER, ALPHA)).toContain("This server's admins paused its jobs");

    expect(await answer('comfy resume', ALPHA_ADMIN, ALPHA)).toBe('Resumed for this server: its jobs start again.');
    await e2e().discord.waitFor(
      (d) => d.messages.find((m) => embedOf(currentRevision(m))?.description?.includes('alpha waits') && titleOf(currentRevision(m)).endsWith('Done')),
      { timeoutMs: 20_000, description: "Alpha's held job to finish after /comfy resume" },
    );
  }, 90_000);

  it("/comfy drain refuses that server's new jobs with the reason, and other servers still submit", async () => {
    expect(await answer('comfy drain', ALPHA_ADMIN, ALPHA)).toMatch(/^Draining this server: no new jobs from it are taken/);
    const refused = await imagine(ALPHA_MEMBER, ALPHA, 'too late');
    expect(embedOf(currentRevision(await finalCard(refused.token, 'Not queued')))?.description).toBe(
      "❌ this server's admins have stopped taking new jobs for now; try again later",
    );
    const beta = await imagine(BETA_MEMBER, BETA, 'beta is open');
    await finalCard(beta.token, 'Done');
    await answer('comfy resume', ALPHA_ADMIN, ALPHA);
    await finalCard((await imagine(ALPHA_MEMBER, ALPHA, 'open again')).token, 'Done');
  }, 60_000);

  it('refuses a server admin the whole bot and the backends, saying who may', async () => {
    expect(await answer('comfy pause', ALPHA_ADMIN, ALPHA, { backend: 'comfy-1' })).toBe(
      "Only the bot's operators can pause a backend; /comfy pause without options acts on this server's jobs.",
    );
    expect(await answer('comfy drain', ALPHA_ADMIN, ALPHA, { everywhere: true })).toBe(
      "Only the bot's operators can drain the whole bot; /comfy drain without options acts on this server's jobs.",
    );
    expect(await answer('comfy pause', ALPHA_MEMBER, ALPHA)).toBe(
      "Only this server's admins (Manage Server or a moderator role) and the bot's operators can use /comfy pause.",
    );
    // Nothing was paused: Beta's job runs.
    await finalCard((await imagine(BETA_MEMBER, BETA, 'still running')).token, 'Done');
  }, 60_000);

  it("shows a server admin's /comfy status without backend errors or addresses, and an operator's with them", async () => {
    const admin = await answer('comfy status', ALPHA_ADMIN, ALPHA);
    expect(admin).toContain('comfy-2');
    expect(admin).toContain('🔴 down');
    expect(admin).not.toContain('127.0.0.1');
    expect(admin).not.toContain('cannot reach');

    const operator = await answer('comfy status', OWNER, BETA);
    expect(operator).toContain(`cannot reach ComfyUI at ${DEAD_BACKEND}`);
  });

  it("lists a server's own jobs to its admins in /queue, never another server's", async () => {
    e2e().comfy.hold();
    const beta = await imagine(BETA_MEMBER, BETA, 'beta secret prompt');
    await e2e().discord.waitFor((d) => cardIn(d, beta.token, 'Running'), { description: "Beta's job running" });
    const alpha = await imagine(ALPHA_MEMBER, ALPHA, 'alpha prompt');
    await e2e().discord.waitFor((d) => cardIn(d, alpha.token, 'Queued'), { description: "Alpha's job queued" });

    const queue = await answer('queue', ALPHA_ADMIN, ALPHA);
    expect(queue).toContain("This server's jobs");
    expect(queue).toContain(`<@${ALPHA_MEMBER}>`);
    expect(queue).not.toContain(BETA_MEMBER);
    expect(queue).not.toContain('secret');
    expect(await answer('queue', ALPHA_MEMBER, ALPHA)).not.toContain("This server's jobs");

    e2e().comfy.release();
    await finalCard(beta.token, 'Done');
    await finalCard(alpha.token, 'Done');
  }, 60_000);
});

describe("the bot's operators", () => {
  it('the application owner, with no Manage Server, pauses and resumes a backend', async () => {
    expect(await answer('comfy pause', OWNER, BETA, { backend: 'comfy-1' })).toBe('comfy-1: paused (its running jobs finish).');
    expect(await answer('comfy resume', OWNER, BETA, { backend: 'comfy-1' })).toBe('comfy-1: taking jobs again.');
  });

  it('an id from COMFYCORD_OPERATOR_IDS pauses and resumes the whole bot', async () => {
    expect(await answer('comfy pause', ENV_OPERATOR, ALPHA, { everywhere: true })).toMatch(/^Paused everywhere/);
    const held = await imagine(BETA_MEMBER, BETA, 'waits for the operator');
    await e2e().discord.waitFor((d) => cardIn(d, held.token, 'Queued'), { description: 'a queued card while the bot is paused' });
    expect(await answer('comfy resume', ENV_OPERATOR, ALPHA, { everywhere: true })).toBe('Resumed everywhere: jobs start again.');
    await finalCard(held.token, 'Done');
  }, 60_000);
});

describe('DM commands', () => {
  it("apply the operator's dmPolicy (no server policy exists there), and not in servers", async () => {
    const { token } = await e2e().discord.slash('imagine', { prompt: 'a dragon', steps: 4 }, { userId: BETA_MEMBER, dm: true });
    expect(embedOf(currentRevision(await finalCard(token, 'Not queued')))?.description).toBe(
      '❌ Your prompt contains something this bot does not allow in direct messages. Please change it and try again.',
    );
    const ok = await e2e().discord.slash('imagine', { prompt: 'a cat', steps: 4 }, { userId: BETA_MEMBER, dm: true });
    await finalCard(ok.token, 'Done');
    // A server's own policy applies in the server: the DM list does not.
    await finalCard((await imagine(BETA_MEMBER, BETA, 'a dragon')).token, 'Done');
  }, 60_000);
});
