import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, isCloudBackend, loadConfig } from '../../src/config/load.js';

const cwd = mkdtempSync(join(tmpdir(), 'comfycord-config-'));

function write(name: string, text: string): string {
  writeFileSync(join(cwd, name), text);
  return name;
}

/** The lines of the ConfigError that loading `env` throws. */
function problems(env: NodeJS.ProcessEnv): string[] {
  try {
    loadConfig({ env, cwd });
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).message.split('\n');
  }
  throw new Error('expected a ConfigError');
}

describe('loadConfig defaults', () => {
  it('runs with no settings at all: one local ComfyUI, dirs under cwd, HTTP server off', () => {
    const config = loadConfig({ env: {}, cwd });
    expect(config.backends).toEqual([{ name: 'comfy-1', url: 'http://127.0.0.1:8188', capacity: 1, weight: 1, costWeight: 1, api: 'classic' }]);
    expect(config.discord).toEqual({ apiUrl: 'https://discord.com/api', moderatorRoles: [], priorityRoles: [], operatorIds: [] });
    expect(config.commandsDir).toBe(join(cwd, 'commands'));
    expect(config.templatesDir).toBe(join(cwd, 'templates'));
    expect(config.dataDir).toBe(join(cwd, 'data'));
    expect(config.logLevel).toBe('info');
    expect(config.http.port).toBeUndefined();
    expect(config.limits).toEqual({ perUserRunning: 1, perUserQueued: 3, minIntervalSeconds: 0 });
  });

  it('does not require DISCORD_TOKEN (the start command checks it)', () => {
    expect(loadConfig({ env: {}, cwd }).discord.token).toBeUndefined();
  });
});

describe('loadConfig environment variables', () => {
  it('reads every variable', () => {
    const config = loadConfig({
      cwd,
      env: {
        DISCORD_TOKEN: 'secret-token',
        DISCORD_API_URL: 'http://127.0.0.1:9999/api',
        DISCORD_GUILD_ID: '123456789012345678',
        COMFY_URL: 'http://gpu:8188',
        COMFY_API_KEY: 'comfy-key',
        COMFYCORD_COMMANDS_DIR: '/srv/commands',
        COMFYCORD_TEMPLATES_DIR: 'tpl',
        COMFYCORD_DATA_DIR: '/var/lib/comfycord',
        COMFYCORD_DATABASE_URL: 'postgres://bot:pw@db:5432/comfycord',
        LOG_LEVEL: 'debug',
        COMFYCORD_HTTP_PORT: '8080',
        COMFYCORD_MODERATOR_ROLES: ' 111, 222 ,,',
        COMFYCORD_OPERATOR_IDS: '333,444',
        COMFYCORD_ALLOWED_GUILDS: '555',
      },
    });
    expect(config.discord).toEqual({
      token: 'secret-token',
      apiUrl: 'http://127.0.0.1:9999/api',
      guildId: '123456789012345678',
      moderatorRoles: ['111', '222'],
      priorityRoles: [],
      operatorIds: ['333', '444'],
      allowedGuilds: ['555'],
    });
    expect(config.backends).toEqual([
      { name: 'comfy-1', url: 'http://gpu:8188', apiKey: 'comfy-key', capacity: 1, weight: 1, costWeight: 1, api: 'classic' },
    ]);
    expect(isCloudBackend(config.backends[0]!)).toBe(true);
    expect(config.commandsDir).toBe('/srv/commands');
    expect(config.templatesDir).toBe(join(cwd, 'tpl'));
    expect(config.dataDir).toBe('/var/lib/comfycord');
    expect(config.databaseUrl).toBe('postgres://bot:pw@db:5432/comfycord');
    expect(config.logLevel).toBe('debug');
    expect(config.http).toEqual({ port: 8080, host: '0.0.0.0' });
  });

  it('turns a comma-separated COMFY_URL into backends comfy-1, comfy-2…', () => {
    const config = loadConfig({ cwd, env: { COMFY_URL: 'http://a:8188, http://b:8188' } });
    expect(config.backends.map((b) => [b.name, b.url])).toEqual([
      ['comfy-1', 'http://a:8188'],
      ['comfy-2', 'http://b:8188'],
    ]);
    expect(config.backends.some(isCloudBackend)).toBe(false);
  });

  it('reads v2: entries of COMFY_URL as Comfy API v2 backends, with the ComfyUI behind them after |', () => {
    const config = loadConfig({ cwd, env: { COMFY_URL: 'http://a:8188, v2:http://a:8189|http://a:8188, v2:https://cloud.comfy.org' } });
    expect(config.backends.map((b) => [b.url, b.api, b.classicUrl])).toEqual([
      ['http://a:8188', 'classic', undefined],
      ['http://a:8189', 'v2', 'http://a:8188'],
      ['https://cloud.comfy.org', 'v2', undefined],
    ]);
  });

  it('treats an empty variable as not set', () => {
    const config = loadConfig({ cwd, env: { COMFY_URL: '', LOG_LEVEL: '', COMFYCORD_HTTP_PORT: ' ' } });
    expect(config.backends[0]?.url).toBe('http://127.0.0.1:8188');
    expect(config.logLevel).toBe('info');
    expect(config.http.port).toBeUndefined();
  });
});

describe('loadConfig error lines name the variable', () => {
  it.each([
    [{ COMFY_URL: 'localhost:8188' }, 'COMFY_URL: must be an http(s) URL (got "localhost:8188")'],
    [{ COMFY_URL: 'http://a:8188,ftp://b' }, 'COMFY_URL: must be an http(s) URL (got "ftp://b")'],
    [{ COMFY_URL: ' , ' }, 'COMFY_URL: must list at least one backend (got ",")'],
    [{ COMFY_URL: 'v2:http://a:8189|localhost' }, 'COMFY_URL: must be an http(s) URL (got "v2:http://a:8189|localhost")'],
    [{ DISCORD_API_URL: 'discord.com' }, 'DISCORD_API_URL: must be an http(s) URL (got "discord.com")'],
    [{ DISCORD_GUILD_ID: 'my-guild' }, 'DISCORD_GUILD_ID: must be a Discord snowflake (digits) (got "my-guild")'],
    [{ COMFYCORD_OPERATOR_IDS: '123,me' }, 'COMFYCORD_OPERATOR_IDS: must be a Discord snowflake (digits) (got "me")'],
    [{ COMFYCORD_ALLOWED_GUILDS: '123, my-server' }, 'COMFYCORD_ALLOWED_GUILDS: must be a Discord snowflake (digits) (got "my-server")'],
    [{ COMFYCORD_ALLOWED_GUILDS: ' , ' }, 'COMFYCORD_ALLOWED_GUILDS: must list at least one server id (got ",")'],
    [{ LOG_LEVEL: 'loud' }, 'LOG_LEVEL: must be one of fatal, error, warn, info, debug, trace, silent (got "loud")'],
    [{ COMFYCORD_HTTP_PORT: 'eighty' }, 'COMFYCORD_HTTP_PORT: must be a port number from 0 to 65535 (got "eighty")'],
    [{ COMFYCORD_HTTP_PORT: '70000' }, 'COMFYCORD_HTTP_PORT: must be a port number from 0 to 65535 (got "70000")'],
    [{ COMFYCORD_SHARDS: '0,one', COMFYCORD_SHARD_COUNT: '2' }, 'COMFYCORD_SHARDS: must list shard numbers (whole numbers from 0) (got "one")'],
    [{ COMFYCORD_SHARDS: '0,2', COMFYCORD_SHARD_COUNT: '2' }, 'COMFYCORD_SHARDS: needs shardCount (COMFYCORD_SHARD_COUNT), and every shard number must be below it (got "0,2")'],
    [{ COMFYCORD_SHARDS: '1' }, 'COMFYCORD_SHARDS: needs shardCount (COMFYCORD_SHARD_COUNT), and every shard number must be below it (got "1")'],
    [{ COMFYCORD_SHARD_COUNT: '0' }, 'COMFYCORD_SHARD_COUNT: must be a whole number from 1 (got "0")'],
    [{ COMFYCORD_LEASE_SECONDS: '0.5' }, 'COMFYCORD_LEASE_SECONDS: must be a number of seconds from 1 to 300 (got "0.5")'],
    // The URL may hold the database's password: never echoed back.
    [{ COMFYCORD_DATABASE_URL: 'mysql://bot:pw@db/comfycord' }, 'COMFYCORD_DATABASE_URL: must be a postgres:// or postgresql:// URL'],
  ])('%j', (env, line) => {
    expect(problems(env)).toEqual([line]);
  });

  it('reports every problem at once, one line each', () => {
    expect(problems({ COMFY_URL: 'nope', LOG_LEVEL: 'x', DISCORD_GUILD_ID: 'y' })).toHaveLength(3);
  });
});

describe('loadConfig config file', () => {
  const yamlFile = write(
    'two.yml',
    [
      'discord:',
      '  guildId: "42"',
      '  priorityRoles: ["7"]',
      'backends:',
      '  - { name: local, url: "http://127.0.0.1:8188", capacity: 2 }',
      '  - { name: cloud, url: "https://cloud.comfy.org", apiKey: k, weight: 0.5 }',
      'limits: { perUserQueued: 5, dailyQuota: 20 }',
      'limitOverrides: [{ role: "9", perUserRunning: 2 }]',
      'jobs: { timeoutSeconds: 600 }',
      'previews: { format: jpeg, maxSize: 256 }',
      'http: { port: 9090, host: 127.0.0.1 }',
      'logLevel: warn',
      'commandsDir: cmds',
    ].join('\n'),
  );

  it('reads YAML', () => {
    const config = loadConfig({ cwd, env: { COMFYCORD_CONFIG: yamlFile } });
    expect(config.discord.guildId).toBe('42');
    expect(config.discord.priorityRoles).toEqual(['7']);
    expect(config.backends).toEqual([
      { name: 'local', url: 'http://127.0.0.1:8188', capacity: 2, weight: 1, costWeight: 1, api: 'classic' },
      { name: 'cloud', url: 'https://cloud.comfy.org', apiKey: 'k', capacity: 1, weight: 0.5, costWeight: 1, api: 'classic' },
    ]);
    expect(config.backends.map(isCloudBackend)).toEqual([false, true]);
    expect(config.limits).toEqual({ perUserRunning: 1, perUserQueued: 5, minIntervalSeconds: 0, dailyQuota: 20 });
    expect(config.limitOverrides).toEqual([{ role: '9', perUserRunning: 2 }]);
    expect(config.jobs).toEqual({ timeoutSeconds: 600, maxTries: 3, retentionDays: 30, deliveryTries: 5, deliveryHours: 24, deliveryRetrySeconds: 30, outageNoticeSeconds: 3, waitForBackendSeconds: 600 });
    expect(config.previews).toEqual({ format: 'jpeg', maxSize: 256, method: 'auto' });
    expect(config.http).toEqual({ port: 9090, host: '127.0.0.1' });
    expect(config.logLevel).toBe('warn');
    expect(config.commandsDir).toBe(join(cwd, 'cmds'));
  });

  it('reads JSON, by extension and by content', () => {
    const settings = JSON.stringify({ backends: [{ name: 'j', url: 'http://j:1' }], logLevel: 'error' });
    for (const name of [write('c.json', settings), write('c.conf', settings)]) {
      const config = loadConfig({ cwd, env: { COMFYCORD_CONFIG: name } });
      expect(config.backends.map((b) => b.name)).toEqual(['j']);
      expect(config.logLevel).toBe('error');
    }
  });

  it('resolves the file against cwd or takes an absolute path', () => {
    mkdirSync(join(cwd, 'sub'), { recursive: true });
    write('sub/a.yaml', 'logLevel: trace\n');
    expect(loadConfig({ cwd, env: { COMFYCORD_CONFIG: 'sub/a.yaml' } }).logLevel).toBe('trace');
    expect(loadConfig({ cwd: '/', env: { COMFYCORD_CONFIG: join(cwd, 'sub/a.yaml') } }).logLevel).toBe('trace');
  });

  it('lets the environment override the file', () => {
    const config = loadConfig({
      cwd,
      env: { COMFYCORD_CONFIG: yamlFile, LOG_LEVEL: 'debug', DISCORD_GUILD_ID: '43', COMFYCORD_HTTP_PORT: '0' },
    });
    expect(config.logLevel).toBe('debug');
    expect(config.discord.guildId).toBe('43');
    // Untouched keys of the same section keep the file's values.
    expect(config.discord.priorityRoles).toEqual(['7']);
    expect(config.http).toEqual({ port: 0, host: '127.0.0.1' });
  });

  it("keeps the file's backends over COMFY_URL, and uses COMFY_URL when the file gives none", () => {
    const withFile = loadConfig({ cwd, env: { COMFYCORD_CONFIG: yamlFile, COMFY_URL: 'http://other:1' } });
    expect(withFile.backends.map((b) => b.name)).toEqual(['local', 'cloud']);
    const empty = write('empty-backends.yml', 'backends: []\n');
    const fallback = loadConfig({ cwd, env: { COMFYCORD_CONFIG: empty, COMFY_URL: 'http://other:1' } });
    expect(fallback.backends).toEqual([{ name: 'comfy-1', url: 'http://other:1', capacity: 1, weight: 1, costWeight: 1, api: 'classic' }]);
  });

  it('accepts an empty file', () => {
    expect(loadConfig({ cwd, env: { COMFYCORD_CONFIG: write('blank.yml', '') } }).logLevel).toBe('info');
  });
});

describe('loadConfig config file error lines', () => {
  function fileProblems(name: string, text: string, env: NodeJS.ProcessEnv = {}): string[] {
    return problems({ ...env, COMFYCORD_CONFIG: write(name, text) });
  }

  it('allows classicUrl only on an api: v2 backend', () => {
    const text = 'backends:\n  - { name: a, url: "http://a:1", classicUrl: "http://a:2" }\n';
    expect(fileProblems('config.yml', text)).toEqual(['config.yml backends[0].classicUrl: is only used with api: v2 (got "http://a:2")']);
  });

  it('names the file and the key path', () => {
    const text = 'backends:\n  - { name: a, url: "http://a:1" }\n  - { name: b, url: "http://b:1", capacity: 0 }\n';
    expect(fileProblems('config.yml', text)).toEqual(['config.yml backends[1].capacity: must be a positive integer (got 0)']);
  });

  it.each([
    ['backends: [{ name: "a b", url: "http://a:1" }]', 'config.yml backends[0].name: must be letters, digits, "_", "-" or "." only (got "a b")'],
    ['backends: [{ name: a, url: "localhost:8188" }]', 'config.yml backends[0].url: must be an http(s) URL (got "localhost:8188")'],
    ['backends: [{ name: a }]', 'config.yml backends[0].url: is required'],
    ['backends: [{ name: a, url: "http://a:1", weight: -1 }]', 'config.yml backends[0].weight: must be a positive number (got -1)'],
    ['backends: [{ name: a, url: "http://a:1", apiKey: 5 }]', 'config.yml backends[0].apiKey: must be a string'],
    ['backends: {}', 'config.yml backends: must be a list (got a mapping)'],
    ['limits: { perUserQueued: -1 }', 'config.yml limits.perUserQueued: must be a whole number ≥ 0 (got -1)'],
    ['limits: { perGuildRunning: 0 }', 'config.yml limits.perGuildRunning: must be a positive integer (got 0)'],
    [
      'limitOverrides: [{ guild: "1", role: "9", perGuildQueued: 5 }]',
      'config.yml limitOverrides[0].perGuildQueued: is a cap for a whole server: set it in an entry that names only a guild (got 5)',
    ],
    [
      'limitOverrides: [{ guild: "1", command: draw, perGuildRunning: 2 }]',
      'config.yml limitOverrides[0].perGuildRunning: is a cap for a whole server: set it in an entry that names only a guild (got 2)',
    ],
    ['limits: { minIntervalSeconds: soon }', 'config.yml limits.minIntervalSeconds: must be a number ≥ 0 (got "soon")'],
    ['jobs: { maxTries: 1.5 }', 'config.yml jobs.maxTries: must be a positive integer (got 1.5)'],
    ['jobs: { waitForBackendSeconds: 0 }', 'config.yml jobs.waitForBackendSeconds: must be a positive integer (got 0)'],
    ['jobs: { waitForBackendSeconds: 10 minutes }', 'config.yml jobs.waitForBackendSeconds: must be a positive integer (got "10 minutes")'],
    ['jobs: { outageNoticeSeconds: -1 }', 'config.yml jobs.outageNoticeSeconds: must be a positive number (got -1)'],
    ['previews: { maxSize: 2000 }', 'config.yml previews.maxSize: must be a whole number from 64 to 1024 (got 2000)'],
    ['previews: { format: gif }', 'config.yml previews.format: must be one of webp, jpeg (got "gif")'],
    ['discord: { token: "" }', 'config.yml discord.token: must not be empty'],
    ['discord: []', 'config.yml discord: must be a mapping (got a list)'],
    ['commandsDir: ""', 'config.yml commandsDir: must not be empty (got "")'],
  ])('%s', (text, line) => {
    expect(fileProblems('config.yml', text)).toEqual([line]);
  });

  it('rejects unknown keys, naming each', () => {
    expect(fileProblems('config.yml', 'tokn: x\ndiscord: { tokn: y }\nbackends: [{ name: a, url: "http://a:1", gpu: 1 }]')).toEqual([
      'config.yml discord.tokn: unknown setting',
      'config.yml backends[0].gpu: unknown setting',
      'config.yml tokn: unknown setting',
    ]);
  });

  it('never echoes a secret back', () => {
    const lines = fileProblems('config.yml', 'discord: { token: 12345 }');
    expect(lines).toEqual(['config.yml discord.token: must be a string']);
  });

  it('reports a missing file, bad YAML, bad JSON and a non-mapping', () => {
    expect(problems({ COMFYCORD_CONFIG: 'etc/nope.yml' })).toEqual(['COMFYCORD_CONFIG: cannot read etc/nope.yml (file not found)']);
    expect(problems({ COMFYCORD_CONFIG: '.' })).toEqual(['COMFYCORD_CONFIG: cannot read . (is a directory)']);
    expect(fileProblems('bad.yml', 'a: [1, 2\nb: 3')[0]).toMatch(/^bad\.yml: not valid YAML: .+/);
    expect(fileProblems('bad.json', '{"a": 1,}')[0]).toMatch(/^bad\.json: not valid JSON: .+/);
    expect(fileProblems('list.yml', '- a\n- b')).toEqual(['list.yml: must be a mapping of settings (got a list)']);
  });

  it('mixes file and env problems, each naming its own source', () => {
    expect(fileProblems('config.yml', 'logLevel: loud', { COMFYCORD_HTTP_PORT: 'x' })).toEqual([
      'config.yml logLevel: must be one of fatal, error, warn, info, debug, trace, silent (got "loud")',
      'COMFYCORD_HTTP_PORT: must be a port number from 0 to 65535 (got "x")',
    ]);
  });
});
