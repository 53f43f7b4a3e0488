// The application behind the bot, as GET /applications/@me returns it: owned by one user, or by a team whose
// accepted members (and owner) manage it. A team-owned application's `owner` is the team's pseudo-user (flag
// TEAM_PSEUDO_USER, 1 << 10), whose id is the team's, never a person's.
import type { SnowflakeFactory } from './ids.js';
import type { FakeUser } from './guild.js';
import { apiUser } from './guild.js';

export type TeamRole = 'admin' | 'developer' | 'read_only';

export type ApplicationSpec =
  | { owner: { id?: string; username?: string } }
  | {
      team: {
        id?: string;
        name?: string;
        /** The team's owner; listed as an accepted admin member unless `members` lists them. */
        ownerId: string;
        members: Array<{ id: string; username?: string; role?: TeamRole; state?: 'invited' | 'accepted' }>;
      };
    };

interface TeamMember {
  user: FakeUser;
  role: TeamRole;
  state: 'invited' | 'accepted';
}

export type FakeApplication =
  | { kind: 'user'; owner: FakeUser }
  | { kind: 'team'; id: string; name: string; ownerId: string; members: TeamMember[] };

const MEMBERSHIP_STATE = { invited: 1, accepted: 2 } as const;
const TEAM_PSEUDO_USER = 1 << 10;

export function buildApplication(spec: ApplicationSpec | undefined, ids: SnowflakeFactory): FakeApplication {
  const person = (id: string, username?: string): FakeUser => ({ id, username: username ?? `user-${id}`, bot: false });
  if (spec === undefined || 'owner' in spec) {
    return { kind: 'user', owner: person(spec?.owner.id ?? ids.next(), spec?.owner.username ?? 'app-owner') };
  }
  const { team } = spec;
  const members: TeamMember[] = team.members.map((m) => ({ user: person(m.id, m.username), role: m.role ?? 'developer', state: m.state ?? 'accepted' }));
  if (!members.some((m) => m.user.id === team.ownerId)) members.unshift({ user: person(team.ownerId), role: 'admin', state: 'accepted' });
  return { kind: 'team', id: team.id ?? ids.next(), name: team.name ?? 'Fake Team', ownerId: team.ownerId, members };
}

/** The user who owns the application, or the team's owner. */
export function applicationOwnerId(app: FakeApplication): string {
  return app.kind === 'user' ? app.owner.id : app.ownerId;
}

export function apiApplication(app: FakeApplication, applicationId: string, bot: FakeUser): Record<string, unknown> {
  const common = { id: applicationId, name: bot.username, icon: null, description: '', flags: 0, bot_public: true, bot_require_code_grant: false, bot: apiUser(bot) };
  if (app.kind === 'user') return { ...common, owner: apiUser(app.owner), team: null };
  return {
    ...common,
    owner: { id: app.id, username: `team${app.id}`, avatar: null, discriminator: '0000', global_name: null, flags: TEAM_PSEUDO_USER },
    team: {
      id: app.id,
      name: app.name,
      icon: null,
      owner_user_id: app.ownerId,
      members: app.members.map((m) => ({
        membership_state: MEMBERSHIP_STATE[m.state],
        team_id: app.id,
        user: apiUser(m.user),
        role: m.role,
        permissions: ['*'],
      })),
    },
  };
}
