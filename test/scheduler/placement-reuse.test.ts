// Jobs are placed by what they need: the backends' inventories are read for the first job of a command (its check),
// and its submit and the next jobs needing the same nodes and models reuse that placement until an inventory changes.
import { describe, expect, it } from 'vitest';
import { UnavailableError } from '../../src/scheduler/errors.js';
import type { Inventory } from '../../src/scheduler/requirements.js';
import { BackendDouble } from './backend-double.js';
import { setup, spec } from './helpers.js';

/** Node classes that count how often admission looks one up. */
class CountingSet extends Set<string> {
  lookups = 0;
  override has(value: string): boolean {
    this.lookups += 1;
    return super.has(value);
  }
}

function counted(inventory: Inventory, nodes: readonly string[]): { inventory: Inventory; nodeClasses: CountingSet } {
  const nodeClasses = new CountingSet(nodes);
  return { inventory: { ...inventory, nodeClasses }, nodeClasses };
}

describe('placement at admission', () => {
  it('reads the inventories for the check with the workflow, not again for its submit', () => {
    const gpus = [new BackendDouble('gpu1'), new BackendDouble('gpu2')];
    const sets = gpus.map((gpu) => {
      const { inventory, nodeClasses } = counted(gpu.inventory!, ['KSampler', 'SaveImage']);
      gpu.inventory = inventory;
      return nodeClasses;
    });
    const lookups = () => sets.reduce((n, set) => n + set.lookups, 0);
    const { scheduler } = setup({ backends: gpus });
    const { workflow: _none, ...withoutWorkflow } = spec('alice');
    scheduler.check(withoutWorkflow);
    expect(lookups()).toBe(0);

    const job = spec('alice');
    scheduler.check(job);
    const afterCheck = lookups();
    // KSampler and SaveImage on each of the two backends
    expect(afterCheck).toBe(4);
    expect(scheduler.submit(job).state).not.toBe('failed');
    expect(lookups()).toBe(afterCheck);

    // Another member's job of the same command needs the same nodes: placed already.
    scheduler.submit(spec('bob'));
    expect(lookups()).toBe(afterCheck);
    // A workflow that needs something else is placed on its own.
    const other = spec('carol', { workflow: { '9': { class_type: 'SaveImage', inputs: {} } } });
    scheduler.submit(other);
    expect(lookups()).toBe(afterCheck + 2);
  });

  it('places the waiting jobs again when an inventory changes, and refuses what no backend can run any more', () => {
    const { scheduler, gpu } = setup();
    scheduler.pause();
    const waiting = scheduler.submit(spec('alice'));
    gpu.setInventory({ ...gpu.inventory!, nodeClasses: new Set(['SaveImage']) });
    expect(waiting.state).toBe('failed');
    expect(waiting.error).toContain('node KSampler is not installed');
    expect(() => scheduler.submit(spec('bob'))).toThrow('node KSampler is not installed');
  });

  it('places the job again when an inventory changed between the check and the submit', () => {
    const { scheduler, gpu } = setup();
    const job = spec('alice');
    scheduler.check(job);
    gpu.setInventory({ ...gpu.inventory!, nodeClasses: new Set(['SaveImage']) });
    expect(() => scheduler.submit(job)).toThrow(UnavailableError);
    expect(() => scheduler.submit(job)).toThrow('node KSampler is not installed');
  });
});
