// The validated configuration: one zod schema, so every mistake can be reported as one line naming the setting.
import { z } from 'zod';

// The messages are the second half of "<setting>: <message>" lines (see load.ts), so they read as plain English.
const positiveInt = z.int({ error: 'must be a positive integer' }).positive({ error: 'must be a positive integer' });
const nonNegativeInt = z.int({ error: 'must be a whole number ≥ 0' }).min(0, { error: 'must be a whole number ≥ 0' });
const snowflake = z.string().regex(/^\d+$/, 'must be a Discord snowflake (digits)');
const nonNegativeNumber = z.number({ error: 'must be a number ≥ 0' }).min(0, { error: 'must be a number ≥ 0' });

const backendSchema = z
  .object({
    name: z.string().regex(/^[\w.-]+$/, 'must be letters, digits, "_", "-" or "." only'),
    url: z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' }),
    apiKey: z.string().min(1).optional(),
    /** Jobs submitted to this backend at once. Default 1: jobs wait in the bot's fair queue, not in ComfyUI's. */
    capacity: positiveInt.default(1),
    /** Preference when several backends are equally loaded (higher first). */
    weight: z.number({ error: 'must be a positive number' }).positive({ error: 'must be a positive number' }).default(1),
    /** GPU time charged per second executed here, for fair share and GPU-minute quotas (a faster card may count more). */
    costWeight: z.number({ error: 'must be a positive number' }).positive({ error: 'must be a positive number' }).default(1),
    /** `v2`: a Comfy API v2 endpoint (Comfy Cloud, a Comfy API deployment, comfy-api-proxy) instead of ComfyUI's own API. */
    api: z.enum(['classic', 'v2'], { error: 'must be "classic" or "v2"' }).default('classic'),
    /** v2 only: the ComfyUI behind the endpoint, for node/model discovery and the targeted-interrupt fallback. */
    classicUrl: z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' }).optional(),
  })
  .strict()
  .refine((b) => b.classicUrl === undefined || b.api === 'v2', { error: 'is only used with api: v2', path: ['classicUrl'] });
export type BackendConfig = z.infer<typeof backendSchema>;

/** Per-user limits and per-server caps; every field optional in overrides, resolved by `resolveLimits` in the scheduler. */
export const limitsSchema = z
  .object({
    perUserRunning: positiveInt.default(1),
    perUserQueued: nonNegativeInt.default(3),
    /** Minimum seconds between two submissions of one user (0 = none). */
    minIntervalSeconds: nonNegativeNumber.default(0),
    /** Jobs per user per UTC day (absent = unlimited). */
    dailyQuota: positiveInt.optional(),
    /** GPU minutes per user per UTC day (absent = unlimited); beside `dailyQuota`, either or both may be set. */
    dailyGpuMinutes: z.number({ error: 'must be a positive number' }).positive({ error: 'must be a positive number' }).optional(),
    /** GPU minutes per user per calendar month (UTC; absent = unlimited). */
    monthlyGpuMinutes: z.number({ error: 'must be a positive number' }).positive({ error: 'must be a positive number' }).optional(),
    /** Jobs of one server running at once; direct messages count as one server (absent = no cap). */
    perGuildRunning: positiveInt.optional(),
    /** Jobs of one server waiting at once; direct messages count as one server (absent = no cap). */
    perGuildQueued: nonNegativeInt.optional(),
  })
  .strict();
export type Limits = z.infer<typeof limitsSchema>;

/** The per-user limits, each optional: what a role or a command may change, and what a server's admins may set. */
export const userLimitOverrideSchema = z
  .object({
    perUserRunning: positiveInt.optional(),
    perUserQueued: nonNegativeInt.optional(),
    minIntervalSeconds: nonNegativeNumber.optional(),
    dailyQuota: positiveInt.optional(),
    dailyGpuMinutes: z.number({ error: 'must be a positive number' }).positive({ error: 'must be a positive number' }).optional(),
    monthlyGpuMinutes: z.number({ error: 'must be a positive number' }).positive({ error: 'must be a positive number' }).optional(),
  })
  .strict();

const GUILD_CAPS = ['perGuildRunning', 'perGuildQueued'] as const;

export const limitOverrideSchema = userLimitOverrideSchema
  .extend({
    guild: z.string().optional(),
    role: z.string().optional(),
    command: z.string().optional(),
    perGuildRunning: positiveInt.optional(),
    perGuildQueued: nonNegativeInt.optional(),
  })
  .strict()
  .superRefine((o, ctx) => {
    // A server's cap counts every job of the server, so it cannot depend on who submits or which command.
    if (o.role === undefined && o.command === undefined) return;
    for (const cap of GUILD_CAPS) {
      if (o[cap] === undefined) continue;
      ctx.addIssue({ code: 'custom', path: [cap], message: 'is a cap for a whole server: set it in an entry that names only a guild' });
    }
  });
export type LimitOverride = z.infer<typeof limitOverrideSchema>;

export const configSchema = z
  .object({
    discord: z
      .object({
        token: z.string().min(1).optional(),
        /** REST base URL without version (discord.js `rest.api`). */
        apiUrl: z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' }).default('https://discord.com/api'),
        guildId: snowflake.optional(),
        /** Role ids whose members may cancel or delete anyone's job. */
        moderatorRoles: z.array(z.string()).default([]),
        /** Role ids whose members get share weight 10 in the fair share (`fairShare.roleWeights` is the general form). */
        priorityRoles: z.array(z.string()).default([]),
        /**
         * User ids of the bot's operators besides the application's owner or team (read from Discord at start-up):
         * they alone may pause, resume or drain the whole bot or a backend and see backend addresses and errors.
         */
        operatorIds: z.array(snowflake).default([]),
        /** When given, the bot leaves every other server it is in or is added to. */
        allowedGuilds: z.array(snowflake).min(1, { error: 'must list at least one server id' }).optional(),
      })
      .strict()
      .default({ apiUrl: 'https://discord.com/api', moderatorRoles: [], priorityRoles: [], operatorIds: [] }),
    backends: z.array(backendSchema).min(1, { error: 'must list at least one backend' }),
    commandsDir: z.string().min(1).default('commands'),
    templatesDir: z.string().min(1).default('templates'),
    dataDir: z.string().min(1).default('data'),
    /**
     * postgres://user:password@host:port/database keeps the job store in PostgreSQL, for several processes sharing
     * one store; absent, it is SQLite in the data dir. Image inputs stay under the data dir either way.
     */
    databaseUrl: z
      .string()
      .regex(/^postgres(ql)?:\/\/\S+$/, { error: 'must be a postgres:// or postgresql:// URL' })
      .optional(),
    logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
    /**
     * The operator's policy where no server policy exists: commands used in DMs (`guild_only: false`). The
     * configured `limits` apply there as everywhere.
     */
    dmPolicy: z
      .object({
        blockedWords: z.array(z.string().trim().min(1)).default([]),
        /** Checked with the same rules as a server's patterns when the bot starts. */
        blockedPatterns: z.array(z.string().min(1)).default([]),
        blockedReply: z.string().min(1).max(2000).optional(),
      })
      .strict()
      .default({ blockedWords: [], blockedPatterns: [] }),
    /** Fair share by GPU time: whose job runs next goes by recent GPU usage ÷ share weight. */
    fairShare: z
      .object({
        /** `gpu-time` (the default): by recent GPU time ÷ share weight; `turns`: round-robin by server then user, whatever jobs cost. */
        by: z.enum(['turns', 'gpu-time'], { error: 'must be "turns" or "gpu-time"' }).default('gpu-time'),
        /** Half of a user's (and a server's) GPU usage is forgotten every this many minutes. */
        halfLifeMinutes: z.number({ error: 'must be a positive number' }).positive({ error: 'must be a positive number' }).default(60),
        /** Role id → share weight (a positive number; members without a weighted role have 1; the largest of a member's roles counts). */
        roleWeights: z.record(z.string(), z.number({ error: 'must be a positive number' }).positive({ error: 'must be a positive number' })).default({}),
      })
      .strict()
      .default({ by: 'gpu-time', halfLifeMinutes: 60, roleWeights: {} }),
    /** Relax mode: jobs that run only when no fast job waits, and whose GPU time is not counted in the fast quotas. */
    relax: z
      .object({
        /** Whether a server allows relax mode until its admins say otherwise (`/comfy config relax`); DMs follow this. */
        allowed: z.boolean({ error: 'must be true or false' }).default(false),
        /** A relax job waits at least this × its owner's relax GPU time today (UTC) before it may start; 0: never. */
        slowdown: z.number({ error: 'must be a number ≥ 0' }).min(0, { error: 'must be a number ≥ 0' }).default(0.5),
      })
      .strict()
      .default({ allowed: false, slowdown: 0.5 }),
    limits: limitsSchema.default({ perUserRunning: 1, perUserQueued: 3, minIntervalSeconds: 0 }),
    limitOverrides: z.array(limitOverrideSchema).default([]),
    jobs: z
      .object({
        /** A job running longer than this is interrupted and failed. */
        timeoutSeconds: positiveInt.default(1800),
        /** Times a job may be (re)submitted after backend failures before it fails. */
        maxTries: positiveInt.default(3),
        /** Finished jobs older than this are pruned from the store. */
        retentionDays: positiveInt.default(30),
        /** Tries at results that can no longer be fetched (backend gone, output missing) before the job fails. */
        deliveryTries: positiveInt.default(5),
        /** Results Discord has not taken this long after the job finished are given up and the job fails. */
        deliveryHours: positiveInt.default(24),
        /** First wait before pending results are tried again; it doubles up to 10 minutes while nothing gets through. */
        deliveryRetrySeconds: positiveInt.default(30),
        /**
         * A run with no WebSocket frame for this long is looked up in /history. Absent: the client's default
         * (30 s), so the resolved config shows only what was set.
         */
        stallSeconds: z.number({ error: 'must be a positive number' }).positive({ error: 'must be a positive number' }).optional(),
        /** A job whose ComfyUI server has been unreachable this long says so on its card (a shorter blip shows nothing). */
        outageNoticeSeconds: z.number({ error: 'must be a positive number' }).positive({ error: 'must be a positive number' }).default(3),
        /** A job submitted (or put back) while every backend able to run it is down waits this long for one, then fails. */
        waitForBackendSeconds: positiveInt.default(600),
      })
      .strict()
      .default({
        timeoutSeconds: 1800,
        maxTries: 3,
        retentionDays: 30,
        deliveryTries: 5,
        deliveryHours: 24,
        deliveryRetrySeconds: 30,
        outageNoticeSeconds: 3,
        waitForBackendSeconds: 600,
      }),
    previews: z
      .object({
        format: z.enum(['webp', 'jpeg']).default('webp'),
        /** Longest side of the preview attached to the card, in pixels. */
        maxSize: z
          .int({ error: 'must be a whole number from 64 to 1024' })
          .min(64, { error: 'must be a whole number from 64 to 1024' })
          .max(1024, { error: 'must be a whole number from 64 to 1024' })
          .default(384),
        /** Sent per prompt as `extra_data.preview_method` (servers that do not know it ignore it). */
        method: z.enum(['auto', 'latent2rgb', 'taesd', 'none', 'default']).default('auto'),
      })
      .strict()
      .default({ format: 'webp', maxSize: 384, method: 'auto' }),
    /** Several processes sharing one PostgreSQL store (databaseUrl): the leader lease and the gateway shards. */
    cluster: z
      .object({
        /** A leader that has not renewed its lease for this long is replaced by a standby (renewed every third of it). */
        leaseSeconds: z.number({ error: 'must be a number of seconds from 1 to 300' }).min(1, { error: 'must be a number of seconds from 1 to 300' }).max(300, { error: 'must be a number of seconds from 1 to 300' }).default(10),
        /** The gateway shards this process opens (discord.js `shards`); absent: discord.js's default. */
        shards: z.array(z.int({ error: 'must list shard numbers (whole numbers from 0)' }).min(0, { error: 'must list shard numbers (whole numbers from 0)' })).min(1).optional(),
        /** The total number of shards across every process (discord.js `shardCount`). */
        shardCount: z.int({ error: 'must be a whole number from 1' }).min(1, { error: 'must be a whole number from 1' }).optional(),
      })
      .strict()
      .refine((c) => c.shards === undefined || (c.shardCount !== undefined && c.shards.every((s) => s < c.shardCount!)), {
        error: 'needs shardCount (COMFYCORD_SHARD_COUNT), and every shard number must be below it',
        path: ['shards'],
      })
      .default({ leaseSeconds: 10 }),
    http: z
      .object({
        /** The health and metrics server (src/ops); off when absent. */
        port: z
          .int({ error: 'must be a port number from 0 to 65535' })
          .min(0, { error: 'must be a port number from 0 to 65535' })
          .max(65535, { error: 'must be a port number from 0 to 65535' })
          .optional(),
        host: z.string().min(1).default('0.0.0.0'),
      })
      .strict()
      .default({ host: '0.0.0.0' }),
  })
  .strict();

export type Config = z.infer<typeof configSchema>;
export type ConfigInput = z.input<typeof configSchema>;
