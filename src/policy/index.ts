// The policy room's public API: who may run what where, what a prompt may say, which limits and defaults apply.
export { checkAccess, moderatorRoles, type AccessRequest, type AccessResult, type AccessRefusal } from './access.js';
export { checkPrompt, promptOptionNames, warmUpChecks, DEFAULT_BLOCKED_REPLY, type PromptCheck, type BlockedMatch } from './moderation.js';
export { patternProblem, startPatternWorker, MAX_PATTERN_LENGTH, type DisabledPattern } from './patterns.js';
export { guildLimitOverrides, limitOverridesFor, memberLimits, spoilerResults, type MemberLimitsInput } from './limits.js';
export { applyDefaults, checkDefault, checkDefaults, type AppliedDefaults, type CheckedDefaults, type DroppedDefault } from './defaults.js';
export { auditJob, summarizeParams, type AuditEvent, type AuditOutcome } from './audit.js';
export { admitSubmission, type Admission, type SubmissionInput } from './admit.js';
export { dmPolicyProblems, dmSettings, type DmPolicy } from './dm.js';
export { modeRequest, relaxAllowed } from './relax.js';
