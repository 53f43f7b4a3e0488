// The bot's operators: the people who run the bot, as opposed to the admins of one server it serves. They are the
// application's owner (or its team's owner and its members who may change the application: admins and
// developers, not read-only members, nor invitations not yet accepted) plus any ids the configuration adds.
import { Routes, TeamMemberMembershipState, TeamMemberRole, type APIApplication, type REST } from 'discord.js';
import type { Logger } from '../config/logger.js';

/** The people Discord says own or manage the application. */
export function applicationOperatorIds(app: Pick<APIApplication, 'owner' | 'team'>): string[] {
  if (!app.team) return app.owner ? [app.owner.id] : [];
  const members = app.team.members
    .filter((m) => m.membership_state === TeamMemberMembershipState.Accepted && m.role !== TeamMemberRole.ReadOnly)
    .map((m) => m.user.id);
  return [...new Set([app.team.owner_user_id, ...members])];
}

/**
 * Reads the application once (at start-up). If Discord cannot be asked, only the configured ids are operators,
 * and the log says so: nobody is made an operator by a failure.
 */
export async function readOperators(rest: REST, configured: readonly string[], logger: Logger): Promise<ReadonlySet<string>> {
  try {
    const app = (await rest.get(Routes.currentApplication())) as APIApplication;
    const fromDiscord = applicationOperatorIds(app);
    logger.info({ operators: [...fromDiscord, ...configured] }, 'bot operators');
    return new Set([...fromDiscord, ...configured]);
  } catch (error) {
    logger.warn({ err: error, operators: configured }, 'could not read the application owner from Discord; only COMFYCORD_OPERATOR_IDS are operators');
    return new Set(configured);
  }
}
