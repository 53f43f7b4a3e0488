import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../config/logger.js';
import { auditJob, summarizeParams } from './audit.js';

function capture() {
  const lines: Record<string, unknown>[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
      done();
    },
  });
  return { logger: createLogger({ destination, pretty: false }), lines };
}

describe('summarizeParams', () => {
  it('shows each value briefly and hides objects', () => {
    expect(summarizeParams({ prompt: 'a cat', steps: 20, hires: false, init: { url: 'https://cdn/x.png' }, none: null })).toBe(
      'prompt="a cat" steps=20 hires=false init=[object] none=none',
    );
  });

  it('truncates long values and long summaries', () => {
    expect(summarizeParams({ prompt: 'x'.repeat(500) })).toBe(`prompt="${'x'.repeat(119)}…"`);
    const many = Object.fromEntries(Array.from({ length: 100 }, (_, i) => [`option${i}`, 'y'.repeat(50)]));
    expect(summarizeParams(many)).toHaveLength(600);
  });
});

describe('auditJob', () => {
  it('writes one line with who, what, where and the outcome', async () => {
    const { logger, lines } = capture();
    auditJob(logger, {
      jobId: 'j1',
      userId: '9',
      guildId: '1',
      channelId: '2',
      command: 'imagine',
      params: { prompt: 'a cat' },
      outcome: 'blocked',
      detail: 'word "nude" in prompt',
    });
    logger.flush();
    await new Promise((resolve) => setImmediate(resolve));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({
      level: 30,
      audit: true,
      jobId: 'j1',
      userId: '9',
      guildId: '1',
      channelId: '2',
      command: 'imagine',
      params: 'prompt="a cat"',
      outcome: 'blocked',
      detail: 'word "nude" in prompt',
      msg: 'audit: /imagine blocked',
    });
  });

  it('leaves detail out when there is none', async () => {
    const { logger, lines } = capture();
    auditJob(logger, { jobId: null, userId: '9', guildId: null, channelId: null, command: 'x', params: {}, outcome: 'queued' });
    await new Promise((resolve) => setImmediate(resolve));
    expect(lines[0]).not.toHaveProperty('detail');
    expect(lines[0]).toMatchObject({ jobId: null, params: '' });
  });
});
