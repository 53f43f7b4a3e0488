// The "Operating it" story through the real pieces: an admin configures the server with /comfy config,
// a member saves defaults with /settings, and each submission is admitted, refused or blocked and audited.
import { Writable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/config/logger.js';
import { limitsSchema } from '../../src/config/schema.js';
import { handleComfyConfig } from '../../src/discord/settings/guildConfig.js';
import type { OptionValue, SettingsDeps } from '../../src/discord/settings/interaction.js';
import { handleSettings } from '../../src/discord/settings/userSettings.js';
import { refusalMessage } from '../../src/discord/settings/format.js';
import type { JobStore } from '../../src/jobs/store.js';
import { admitSubmission } from '../../src/policy/admit.js';
import { auditJob } from '../../src/policy/audit.js';
import { memberLimits, spoilerResults } from '../../src/policy/limits.js';
import { commandFixture } from './command-fixture.js';
import { fakeInteraction, tempStore } from './fake-interaction.js';

const imagine = commandFixture();
let store: JobStore;
let cleanup: () => void;
let deps: SettingsDeps;

beforeEach(() => {
  ({ store, cleanup } = tempStore());
  deps = { store, commands: () => new Map([['imagine', imagine]]), relaxDefault: false };
});
afterEach(() => cleanup());

async function admin(subcommand: string, options: Record<string, OptionValue>): Promise<string> {
  const interaction = fakeInteraction({ group: 'config', subcommand, options });
  await handleComfyConfig(interaction, deps);
  return interaction.lastReply();
}

async function member(subcommand: string, options: Record<string, OptionValue>): Promise<string> {
  const interaction = fakeInteraction({ subcommand, options, userId: '7', permissions: 0n });
  await handleSettings(interaction, deps);
  return interaction.lastReply();
}

describe('operating a server', () => {
  it('applies what the admin and the member configured', async () => {
    await admin('allow', { command: 'imagine', channel: '10' });
    await admin('role-limits', { role: '20', queued: 6 });
    await admin('block', { word: 'gore' });
    await admin('reply', { text: 'Not here.' });
    await admin('spoiler', { on: true });
    expect(await member('set', { command: 'imagine', option: 'steps', value: '25' })).toMatch(/^Saved/);

    const lines: Record<string, unknown>[] = [];
    const logger = createLogger({
      pretty: false,
      destination: new Writable({
        write(chunk: Buffer, _encoding, done) {
          lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
          done();
        },
      }),
    });
    const submit = async (channelId: string, prompt: string) => {
      const admission = await admitSubmission({
        settings: store.guildSettings('1'),
        command: imagine,
        channelId,
        roleIds: ['20'],
        isModerator: false,
        explicit: { prompt },
        saved: store.userDefaults('7', 'imagine'),
      });
      const values = admission.outcome === 'refused-access' ? { prompt } : admission.values;
      auditJob(logger, { jobId: null, userId: '7', guildId: '1', channelId, command: 'imagine', params: values, outcome: admission.outcome === 'admitted' ? 'queued' : admission.outcome });
      return admission;
    };

    const wrongChannel = await submit('11', 'a cat');
    expect(wrongChannel.outcome === 'refused-access' && refusalMessage(wrongChannel.refusal)).toBe('/imagine can only be used in <#10>.');
    expect(await submit('10', 'a g0re scene')).toMatchObject({ outcome: 'blocked', reply: 'Not here.' });
    expect(await submit('10', 'a cat')).toEqual({ outcome: 'admitted', values: { prompt: 'a cat', steps: 25 }, dropped: [] });

    const owner = { userId: '7', guildId: '1', roles: ['20'] };
    expect(memberLimits({ limits: limitsSchema.parse({}), limitOverrides: [], settings: store.guildSettings('1'), owner, command: 'imagine' }).perUserQueued).toBe(6);
    expect(spoilerResults(store.guildSettings('1'))).toBe(true);

    await new Promise((resolve) => setImmediate(resolve));
    expect(lines.map((line) => [line.audit, line.outcome, line.params])).toEqual([
      [true, 'refused-access', 'prompt="a cat"'],
      [true, 'blocked', 'prompt="a g0re scene" steps=25'],
      [true, 'queued', 'prompt="a cat" steps=25'],
    ]);
  });
});
