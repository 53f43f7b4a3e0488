import { describe, expect, it } from 'vitest';
import { guildSettingsSchema } from '../jobs/store-settings.js';
import { checkAccess, moderatorRoles } from './access.js';

const settings = guildSettingsSchema.parse({
  commands: { imagine: { channels: ['10', '11'], roles: ['20'] }, upscale: { channels: [], roles: [] } },
});
const base = { settings, command: 'imagine', channelId: '10', roleIds: ['20'], isModerator: false };

describe('checkAccess', () => {
  it('allows a member with an allowed role in an allowed channel', () => {
    expect(checkAccess(base)).toEqual({ ok: true });
  });

  it('refuses other channels and names the allowed ones', () => {
    expect(checkAccess({ ...base, channelId: '99' })).toEqual({ ok: false, reason: 'channel', command: 'imagine', channelIds: ['10', '11'] });
  });

  it('counts a thread inside an allowed channel as that channel', () => {
    expect(checkAccess({ ...base, channelId: '500', parentChannelId: '11' })).toEqual({ ok: true });
  });

  it('refuses members without an allowed role and names the roles', () => {
    expect(checkAccess({ ...base, roleIds: ['21'] })).toEqual({ ok: false, reason: 'role', command: 'imagine', roleIds: ['20'] });
  });

  it('lets moderators past the role check but not the channel check', () => {
    expect(checkAccess({ ...base, roleIds: [], isModerator: true })).toEqual({ ok: true });
    expect(checkAccess({ ...base, channelId: '99', isModerator: true })).toMatchObject({ ok: false, reason: 'channel' });
  });

  it('treats unlisted commands and empty lists as unrestricted', () => {
    expect(checkAccess({ ...base, command: 'other', channelId: '1', roleIds: [] })).toEqual({ ok: true });
    expect(checkAccess({ ...base, command: 'upscale', channelId: '1', roleIds: [] })).toEqual({ ok: true });
  });
});

describe('moderatorRoles', () => {
  it('joins the configured roles and the guild\'s, once each', () => {
    expect(moderatorRoles(['1', '2'], guildSettingsSchema.parse({ moderatorRoles: ['2', '3'] }))).toEqual(['1', '2', '3']);
    expect(moderatorRoles(['1'], null)).toEqual(['1']);
  });
});
