// The line a standby's /queue and /comfy status carry when what they show of the leader's knowledge (places,
// estimates, backends' health) is not fresh: members are told how old it is rather than shown it as now.
import { formatDuration } from './cardRenderer.js';

/** `age`: ms since the leader last published its view, or 'none' when no leader has published one yet. */
export function viewAgeNote(age: number | 'none' | undefined): string {
  if (age === undefined) return '';
  if (age === 'none') return '\n\n🕒 The leading process has not reported places in line or backends yet.';
  return `\n\n🕒 Places in line and backends as the leading process reported them ${formatDuration(age / 1000)} ago.`;
}
