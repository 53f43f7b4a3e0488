// A command with an image option, as the templates room would load it, for recovery tests.
import type { ApiWorkflow } from '../../src/comfy/types.js';
import type { CommandDefinition } from '../../src/templates/definition.js';

export function invertWorkflow(): ApiWorkflow {
  return {
    '10': { class_type: 'LoadImage', inputs: { image: 'example.png' }, _meta: { title: 'Source' } },
    '11': { class_type: 'ImageInvert', inputs: { image: ['10', 0] } },
    '12': { class_type: 'SaveImage', inputs: { images: ['11', 0], filename_prefix: 'inverted' } },
    '13': { class_type: 'PreviewImage', inputs: { images: ['10', 0] } },
  };
}

export const INVERT: CommandDefinition = {
  name: 'invert',
  description: 'Inverts a picture',
  guildOnly: false,
  file: 'commands/invert.yaml',
  template: 'invert.json',
  actions: [],
  workflow: invertWorkflow(),
  options: [
    {
      type: 'image',
      name: 'picture',
      description: 'The picture',
      required: true,
      hidden: false,
      target: { nodeId: '10', matchedBy: 'title', ref: 'Source.image', input: 'image' },
    },
  ],
  outputs: ['12'],
  limits: { perUserQueued: 2 },
};

export const commands = (name: string): CommandDefinition | undefined => (name === INVERT.name ? INVERT : undefined);
