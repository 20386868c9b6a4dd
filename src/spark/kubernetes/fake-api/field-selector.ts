import { isPlainObject } from './kube-object';
import type { ResourceType } from './resources';
import { badRequest } from './status';

/** Field selectors: `path=value`, `path==value`, `path!=value`, comma-joined; `\,` `\=` `\\` escape. */
export interface FieldRequirement {
  readonly field: string;
  readonly operator: '=' | '!=';
  readonly value: string;
}

export type FieldSelector = readonly FieldRequirement[];

function splitUnescaped(text: string, separator: string): string[] {
  const parts: string[] = [];
  let current = '';
  for (let i = 0; i < text.length; i += 1) {
    const ch = text[i] ?? '';
    if (ch === '\\' && i + 1 < text.length) {
      current += ch + (text[i + 1] ?? '');
      i += 1;
    } else if (ch === separator) {
      parts.push(current);
      current = '';
    } else {
      current += ch;
    }
  }
  parts.push(current);
  return parts;
}

function unescape(text: string): string {
  return text.replace(/\\(.)/g, '$1');
}

function supportedFields(resource: ResourceType): string[] {
  return ['metadata.name', 'metadata.namespace', ...resource.extraFieldSelectors];
}

export function parseFieldSelector(selector: string | null | undefined, resource: ResourceType): FieldSelector {
  if (!selector || selector.trim() === '') return [];
  return splitUnescaped(selector, ',').map((part): FieldRequirement => {
    const m = /^([^!=]+?)\s*(!=|==|=)(.*)$/s.exec(part.trim());
    if (!m) throw badRequest(`invalid selector: '${selector}'; can't understand '${part}'`);
    const field = (m[1] ?? '').trim();
    if (!supportedFields(resource).includes(field)) {
      throw badRequest(
        resource.custom
          ? `field label not supported: ${field}. Supported field labels: "metadata.name", "metadata.namespace"`
          : `field label not supported: ${field}`,
      );
    }
    return { field, operator: m[2] === '!=' ? '!=' : '=', value: unescape(m[3] ?? '') };
  });
}

/** The string a field selector compares against: absent fields read as ''. */
export function fieldValue(object: unknown, path: string): string {
  let current: unknown = object;
  for (const key of path.split('.')) {
    if (!isPlainObject(current)) return '';
    current = current[key];
  }
  if (typeof current === 'string') return current;
  if (typeof current === 'number' || typeof current === 'boolean') return String(current);
  return '';
}

export function matchesFields(selector: FieldSelector, object: unknown): boolean {
  return selector.every((r) => (fieldValue(object, r.field) === r.value) === (r.operator === '='));
}
