import { describe, expect, it } from 'vitest';
import { configSchema } from '../config/schema.js';
import { createBackendPool, schedulerOptionsFromConfig } from './from-config.js';
import { MemoryUsage } from './usage.js';

const config = configSchema.parse({
  backends: [
    { name: 'local', url: 'http://127.0.0.1:1', capacity: 2, weight: 3 },
    { name: 'cloud', url: 'https://cloud.invalid', apiKey: 'k' },
  ],
  discord: { priorityRoles: ['vip'] },
  jobs: { maxTries: 5, timeoutSeconds: 90 },
  limitOverrides: [{ role: 'vip', perUserQueued: 9 }],
});

describe('from config', () => {
  it('builds one backend per entry with its capacity and weight, unconnected', () => {
    const pool = createBackendPool(config);
    expect(pool.map((b) => [b.name, b.capacity, b.weight, b.healthy])).toEqual([
      ['local', 2, 3, false],
      ['cloud', 1, 1, false],
    ]);
  });

  it('maps limits, priority roles, tries and the time limit', () => {
    const options = schedulerOptionsFromConfig(config, []);
    expect(options).toMatchObject({
      limits: { perUserRunning: 1, perUserQueued: 3, minIntervalSeconds: 0 },
      limitOverrides: [{ role: 'vip', perUserQueued: 9 }],
      priorityRoles: ['vip'],
      maxTries: 5,
      timeoutSeconds: 90,
    });
  });

  it('passes the persistent usage through to the scheduler', () => {
    const usage = new MemoryUsage();
    expect(schedulerOptionsFromConfig(config, [], { usage }).usage).toBe(usage);
    expect(schedulerOptionsFromConfig(config, []).usage).toBeUndefined();
  });
});
