// Combo inputs come in two shapes in /object_info; callers should not care which one a node uses.

/**
 * The choices of a combo input spec, in both shapes ComfyUI uses: classic `[[a, b], opts]` and v3
 * `["COMBO", {options: [a, b]}]`. Undefined for non-combo inputs.
 */
export function comboOptions(inputSpec: unknown): unknown[] | undefined {
  if (!Array.isArray(inputSpec)) return undefined;
  const [head, opts] = inputSpec as [unknown, unknown];
  if (Array.isArray(head)) return head;
  if (head === 'COMBO' && typeof opts === 'object' && opts !== null) {
    const options = (opts as { options?: unknown }).options;
    return Array.isArray(options) ? options : undefined;
  }
  return undefined;
}
