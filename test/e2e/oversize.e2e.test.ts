// Outputs larger than the guild's upload limit: re-encoded to fit, or named as left out, never dropped silently.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { currentRevision } from '../fakes/discord/index.js';
import { cardIn, describeHistory, embedOf, startE2E, type E2E } from './harness.js';

const LIMIT = 3000;
let e2e: E2E;

beforeAll(async () => {
  e2e = await startE2E({ discord: { attachmentSizeLimit: LIMIT } });
}, 60_000);

afterAll(async () => {
  await e2e?.close();
}, 30_000);

it('fits an output over attachment_size_limit and says so on the card', async () => {
  const { token } = await e2e.discord.slash('imagine', { prompt: 'a big picture', size: 'square-xl' });
  const card = await e2e.discord.waitFor((d) => cardIn(d, token, 'Done'), { timeoutMs: 20_000, description: 'the delivered card' }).catch((error: Error) => {
    const sofar = e2e.discord.originalFor(token);
    throw new Error(`${error.message}\n${sofar ? describeHistory(sofar) : '(no card)'}`);
  });
  const final = currentRevision(card);
  const notes = embedOf(final)?.fields?.find((f) => f.name === 'Notes')?.value ?? '';
  // Markdown-escaped underscores: the renderer escapes every note.
  expect(notes).toMatch(/^• imagine\\_[0-9a-f]{8}\\_1\.webp: re-encoded .*to fit Discord's 2\.9 KB limit$/);
  expect(final.attachments).toHaveLength(1);
  expect(final.attachments[0]!.filename).toMatch(/^imagine_[0-9a-f]{8}_1\.webp$/);
  expect(final.attachments[0]!.size).toBeLessThanOrEqual(LIMIT);
  expect(embedOf(final)?.description).toContain('✅ 1 image');
});
