// Whether relax mode may be used where a member submits: their server's admins' rule (`/comfy config relax`),
// else the operator's default (`relax.allowed`), which is also the rule in direct messages.
import type { JobStore } from '../jobs/store.js';
import type { ModeRequest } from '../jobs/job.js';
import type { GuildSettings } from '../jobs/store-settings.js';

export function relaxAllowed(settings: Pick<GuildSettings, 'allowRelax'> | null, configDefault: boolean): boolean {
  return settings?.allowRelax ?? configDefault;
}

/** What admission decides a submission's mode from: the member's `/settings mode` and the rule where they submit. */
export function modeRequest(store: Pick<JobStore, 'userMode'>, userId: string, settings: Pick<GuildSettings, 'allowRelax'> | null, configDefault: boolean): ModeRequest {
  return { preferred: store.userMode(userId), relaxAllowed: relaxAllowed(settings, configDefault) };
}
