import { describe, expect, it } from 'vitest';
import type { JobRow } from '../../jobs/store-types.js';
import { findJob } from './show.js';

const job = { id: 'job-1' } as JobRow;
const store = {
  get: (id: string) => (id === 'job-1' ? job : null),
  byMessage: (id: string) => (id === '123456789012345678' ? job : null),
};

describe('findJob', () => {
  it('reads a job id or a message link to the card', () => {
    expect(findJob({ store } as never, ' job-1 ')).toBe(job);
    expect(findJob({ store } as never, 'https://discord.com/channels/111111111111111111/222222222222222222/123456789012345678')).toBe(job);
    expect(findJob({ store } as never, 'https://canary.discord.com/channels/@me/222222222222222222/123456789012345678')).toBe(job);
  });

  it('finds nothing for other text, unknown ids or links elsewhere', () => {
    expect(findJob({ store } as never, 'job 1')).toBeNull();
    expect(findJob({ store } as never, 'job-2')).toBeNull();
    expect(findJob({ store } as never, 'https://evil.example/channels/1/2/123456789012345678')).toBeNull();
    expect(findJob({ store } as never, 'https://discord.com/channels/111111111111111111/222222222222222222/999999999999999999')).toBeNull();
  });
});
