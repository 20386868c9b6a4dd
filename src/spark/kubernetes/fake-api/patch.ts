import { clone, deepEqual, isPlainObject } from './kube-object';

/** A patch document that parsed but cannot be applied to this object (the API server answers 422). */
export class PatchApplyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PatchApplyError';
  }
}

/** A patch document that is not a patch at all (the API server answers 400). */
export class PatchFormatError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PatchFormatError';
  }
}

/** RFC 7386 JSON merge patch: objects merge recursively, `null` removes, anything else replaces. */
export function applyMergePatch(target: unknown, patch: unknown): unknown {
  if (!isPlainObject(patch)) return clone(patch);
  const result: Record<string, unknown> = isPlainObject(target) ? { ...target } : {};
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete result[key];
    else result[key] = applyMergePatch(result[key], value);
  }
  return result;
}

interface JsonPatchOperation {
  readonly op: 'add' | 'remove' | 'replace' | 'move' | 'copy' | 'test';
  readonly path: string;
  readonly from?: string;
  readonly value?: unknown;
}

function parsePointer(pointer: string): string[] {
  if (pointer === '') return [];
  if (!pointer.startsWith('/')) throw new PatchApplyError(`invalid JSON pointer ${JSON.stringify(pointer)}`);
  return pointer
    .slice(1)
    .split('/')
    .map((token) => token.replace(/~1/g, '/').replace(/~0/g, '~'));
}

function arrayIndex(container: unknown[], token: string, forInsert: boolean, pointer: string): number {
  if (forInsert && token === '-') return container.length;
  if (!/^(0|[1-9]\d*)$/.test(token)) throw new PatchApplyError(`invalid array index ${JSON.stringify(token)} in ${pointer}`);
  const index = Number(token);
  const limit = forInsert ? container.length : container.length - 1;
  if (index > limit) throw new PatchApplyError(`array index ${index} out of bounds in ${pointer}`);
  return index;
}

/** The container holding the pointer's last token, and that token. */
function locate(doc: unknown, pointer: string): { parent: unknown; token: string } {
  const tokens = parsePointer(pointer);
  const token = tokens.pop();
  if (token === undefined) throw new PatchApplyError('the root cannot be the parent of anything');
  let parent = doc;
  for (const t of tokens) {
    if (Array.isArray(parent)) parent = parent[arrayIndex(parent, t, false, pointer)];
    else if (isPlainObject(parent) && t in parent) parent = parent[t];
    else throw new PatchApplyError(`doc is missing path: ${JSON.stringify(pointer)}: missing value`);
  }
  return { parent, token };
}

function read(doc: unknown, pointer: string): unknown {
  if (pointer === '') return doc;
  const { parent, token } = locate(doc, pointer);
  if (Array.isArray(parent)) return parent[arrayIndex(parent, token, false, pointer)];
  if (isPlainObject(parent) && token in parent) return parent[token];
  throw new PatchApplyError(`doc is missing path: ${JSON.stringify(pointer)}: missing value`);
}

function add(doc: unknown, pointer: string, value: unknown): unknown {
  if (pointer === '') return value;
  const { parent, token } = locate(doc, pointer);
  if (Array.isArray(parent)) parent.splice(arrayIndex(parent, token, true, pointer), 0, value);
  else if (isPlainObject(parent)) parent[token] = value;
  else throw new PatchApplyError(`doc is missing path: ${JSON.stringify(pointer)}: missing value`);
  return doc;
}

function remove(doc: unknown, pointer: string): unknown {
  const { parent, token } = locate(doc, pointer);
  if (Array.isArray(parent)) parent.splice(arrayIndex(parent, token, false, pointer), 1);
  else if (isPlainObject(parent) && token in parent) delete parent[token];
  else throw new PatchApplyError(`unable to remove nonexistent key: ${token}: missing value`);
  return doc;
}

function parseOperations(patch: unknown): JsonPatchOperation[] {
  if (!Array.isArray(patch)) throw new PatchFormatError('json patch must be an array of operations');
  return patch.map((op, i) => {
    if (!isPlainObject(op) || typeof op.op !== 'string' || typeof op.path !== 'string') {
      throw new PatchFormatError(`json patch operation ${i} needs string "op" and "path"`);
    }
    if (!['add', 'remove', 'replace', 'move', 'copy', 'test'].includes(op.op)) {
      throw new PatchFormatError(`unexpected json patch operation ${JSON.stringify(op.op)}`);
    }
    if ((op.op === 'move' || op.op === 'copy') && typeof op.from !== 'string') {
      throw new PatchFormatError(`json patch operation ${i} (${op.op}) needs a string "from"`);
    }
    if ((op.op === 'add' || op.op === 'replace' || op.op === 'test') && !('value' in op)) {
      throw new PatchFormatError(`json patch operation ${i} (${op.op}) needs a "value"`);
    }
    return op as unknown as JsonPatchOperation;
  });
}

/** RFC 6902 JSON patch, applied to a copy; the input is never modified. */
export function applyJsonPatch(target: unknown, patch: unknown): unknown {
  let doc = clone(target);
  for (const op of parseOperations(patch)) {
    switch (op.op) {
      case 'add':
        doc = add(doc, op.path, clone(op.value));
        break;
      case 'remove':
        doc = remove(doc, op.path);
        break;
      case 'replace':
        read(doc, op.path);
        doc = op.path === '' ? clone(op.value) : add(remove(doc, op.path), op.path, clone(op.value));
        break;
      case 'move': {
        const from = op.from ?? '';
        if (op.path.startsWith(`${from}/`)) throw new PatchApplyError(`cannot move ${from} into its own child ${op.path}`);
        const value = read(doc, from);
        doc = add(remove(doc, from), op.path, value);
        break;
      }
      case 'copy':
        doc = add(doc, op.path, clone(read(doc, op.from ?? '')));
        break;
      case 'test':
        if (!deepEqual(read(doc, op.path), op.value)) throw new PatchApplyError(`testing value ${op.path} failed`);
        break;
    }
  }
  return doc;
}
