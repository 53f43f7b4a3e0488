// Fresh integers for `default: random`, wide enough for ComfyUI's 64-bit seeds.
import { randomBytes } from 'node:crypto';

/** 64 uniformly random bits. */
export function random64(): bigint {
  return randomBytes(8).readBigUInt64BE();
}

/** A value in [min, max] from a 64-bit source (modulo reduction: the bias is negligible for seed ranges). */
export function randomInRange(min: bigint, max: bigint, random: () => bigint): bigint {
  const span = max - min + 1n;
  const bits = BigInt.asUintN(64, random());
  return min + (bits % span);
}
