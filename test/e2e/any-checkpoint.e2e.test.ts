// The README's quick start on a ComfyUI whose models are not the ones the shipped templates name: a member who
// picks no model gets the server's own (the commands prefer the stock ones, else the first listed), and the card
// says which one ran.
import { describe, expect, it } from 'vitest';
import { currentRevision, type MessageRevision, type StoredMessage } from '../fakes/discord/index.js';
import { buttonId, embedOf, finalCardOf, titleOf, useE2E } from './harness.js';

const e2e = useE2E({ comfy: { models: { checkpoints: ['other_model.safetensors', 'zz_other.safetensors'], upscale_models: ['2x-other.pth'] } } });

function field(revision: MessageRevision, name: string): string | undefined {
  return embedOf(revision)?.fields?.find((f) => f.name === name)?.value.replace(/`/g, '');
}

/** The input values of the last prompt the fake ComfyUI received, by node id. */
function lastPrompt(): Record<string, { class_type: string; inputs: Record<string, unknown> }> {
  const sent = e2e().comfy.requests.findLast((request) => request.method === 'POST' && request.path.endsWith('/prompt'));
  return (sent?.body as { prompt: Record<string, { class_type: string; inputs: Record<string, unknown> }> }).prompt;
}

describe('shipped commands on a server with other model names', () => {
  let done: StoredMessage;

  it('/imagine without a model runs with the server’s first checkpoint, and the card shows it', async () => {
    const { token } = await e2e().discord.slash('imagine', { prompt: 'a lighthouse', steps: 4 });
    done = await finalCardOf(e2e(), token, 'Done');
    const final = currentRevision(done);
    expect(field(final, 'model')).toBe('other_model.safetensors');
    const loader = Object.values(lastPrompt()).find((node) => node.class_type === 'CheckpointLoaderSimple');
    expect(loader?.inputs.ckpt_name).toBe('other_model.safetensors');
  });

  it('a model the member picks is used as picked', async () => {
    const { token } = await e2e().discord.slash('imagine', { prompt: 'a lighthouse', steps: 4, model: 'zz_other.safetensors' });
    expect(field(currentRevision(await finalCardOf(e2e(), token, 'Done')), 'model')).toBe('zz_other.safetensors');
  });

  it('the Upscale button runs with the server’s upscale model', async () => {
    const { token } = await e2e().discord.button(done.id, buttonId(currentRevision(done), 'upscale'));
    const upscaled = currentRevision(await finalCardOf(e2e(), token, 'Done'));
    expect(titleOf(upscaled)).toBe('/upscale · Done');
    expect(field(upscaled, 'model')).toBe('2x-other.pth');
  });
});
