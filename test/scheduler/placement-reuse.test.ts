// A submission's check with its workflow and its submit place the job once: the backends' inventories are read
// for the check, and submit reuses that placement unless an inventory changed in between.
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

    // Another submission's workflow is placed on its own.
    scheduler.submit(spec('bob'));
    expect(lookups()).toBe(afterCheck + 4);
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
