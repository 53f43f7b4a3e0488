import { describe, expect, it } from 'vitest';
import { commandFixture } from '../../test/policy/command-fixture.js';
import { guildSettingsSchema } from '../jobs/store-settings.js';
import { admitSubmission, type SubmissionInput } from './admit.js';

const settings = guildSettingsSchema.parse({
  commands: { imagine: { channels: ['10'] } },
  blockedWords: ['gore'],
});
const base: SubmissionInput = {
  settings,
  command: commandFixture(),
  channelId: '10',
  roleIds: [],
  isModerator: false,
  explicit: { prompt: 'a cat' },
  saved: { steps: 30, gone: true },
};

describe('admitSubmission', () => {
  it('admits with saved values merged under explicit ones, reporting stale ones', async () => {
    expect(await admitSubmission({ ...base, explicit: { prompt: 'a cat', steps: 5 } })).toEqual({
      outcome: 'admitted',
      values: { prompt: 'a cat', steps: 5 },
      dropped: [{ option: 'gone', reason: '/imagine no longer has an option "gone"' }],
    });
  });

  it('refuses a disallowed channel before anything else', async () => {
    expect(await admitSubmission({ ...base, channelId: '11', explicit: { prompt: 'gore' } })).toMatchObject({
      outcome: 'refused-access',
      refusal: { reason: 'channel', channelIds: ['10'] },
    });
  });

  it('checks saved text values as well as typed ones', async () => {
    expect(await admitSubmission({ ...base, saved: { negative: 'gore' } })).toMatchObject({
      outcome: 'blocked',
      matched: { option: 'negative', kind: 'word', term: 'gore' },
    });
  });

  it('applies only saved values in DMs', async () => {
    expect(await admitSubmission({ ...base, settings: null, channelId: 'dm', explicit: { prompt: 'gore' } })).toMatchObject({ outcome: 'admitted' });
  });
});
