import { describe, expect, it } from 'vitest';
import { cachedServerInfo, type ServerInfo } from './server-info.js';

function counting(models: () => Promise<string[]>) {
  const asked: string[] = [];
  const source: ServerInfo = {
    objectInfo: async (nodeClass) => {
      asked.push(`object_info/${nodeClass}`);
      return { [nodeClass]: { input: { required: {} } } };
    },
    models: (folder) => {
      asked.push(`models/${folder}`);
      return models();
    },
  };
  return { asked, source };
}

describe('cachedServerInfo', () => {
  it('answers repeated questions from memory until the time to live has passed', async () => {
    let now = 0;
    const { asked, source } = counting(async () => ['a.safetensors']);
    const cached = cachedServerInfo(source, 30_000, () => now);
    expect(await cached.models('checkpoints')).toEqual(['a.safetensors']);
    await cached.models('checkpoints');
    await cached.objectInfo('KSampler');
    await cached.objectInfo('KSampler');
    expect(asked).toEqual(['models/checkpoints', 'object_info/KSampler']);
    now = 30_000;
    await cached.models('checkpoints');
    expect(asked).toEqual(['models/checkpoints', 'object_info/KSampler', 'models/checkpoints']);
  });

  it('does not remember a failure', async () => {
    let fail = true;
    const { asked, source } = counting(async () => {
      if (fail) throw new Error('ComfyUI is restarting');
      return ['b.safetensors'];
    });
    const cached = cachedServerInfo(source, 30_000, () => 0);
    await expect(cached.models('checkpoints')).rejects.toThrow('ComfyUI is restarting');
    fail = false;
    expect(await cached.models('checkpoints')).toEqual(['b.safetensors']);
    expect(asked).toHaveLength(2);
  });
});
