// The acting member's roles and permissions, from whichever interaction carries them.
import type { BaseInteraction } from 'discord.js';
import { memberAccess, type InteractionMemberLike, type MemberAccess } from '../permissions.js';

/** Null in DMs. discord.js types `member` as a cached GuildMember or the raw API member; both fit. */
export function accessOf(interaction: Pick<BaseInteraction, 'member' | 'memberPermissions'>): MemberAccess | null {
  return memberAccess(interaction.member as InteractionMemberLike | null, interaction.memberPermissions);
}
