import { describe, expect, it } from 'vitest';
import type { APIApplication } from 'discord.js';
import { applicationOperatorIds } from './operators.js';

const user = (id: string) => ({ id, username: `u${id}`, discriminator: '0', global_name: null, avatar: null });
const member = (id: string, role: string, state: number) => ({ membership_state: state, team_id: 't', user: user(id), role, permissions: ['*'] });

describe('applicationOperatorIds', () => {
  it('a user-owned application: its owner', () => {
    expect(applicationOperatorIds({ owner: user('1'), team: null } as unknown as APIApplication)).toEqual(['1']);
  });

  it("a team-owned application: the team's owner and accepted admins and developers, not the team pseudo-user, read-only members or pending invitations", () => {
    const app = {
      owner: { ...user('900'), flags: 1024 },
      team: {
        id: '900',
        name: 'T',
        icon: null,
        owner_user_id: '1',
        members: [member('1', 'admin', 2), member('2', 'developer', 2), member('3', 'read_only', 2), member('4', 'admin', 1)],
      },
    } as unknown as APIApplication;
    expect(applicationOperatorIds(app)).toEqual(['1', '2']);
  });
});
