import { badRequest } from './status';
import { labelValueErrors, qualifiedNameErrors } from './validation';

/**
 * Label selectors in the API server's string syntax: `k=v`, `k==v`, `k!=v`, `k in (a,b)`,
 * `k notin (a,b)`, `k`, `!k`, `k>1`, `k<1`, joined by commas (all must hold).
 */
export type LabelRequirement =
  | { readonly key: string; readonly operator: 'Exists' | 'DoesNotExist' }
  | { readonly key: string; readonly operator: 'In' | 'NotIn'; readonly values: readonly string[] }
  | { readonly key: string; readonly operator: 'Gt' | 'Lt'; readonly value: number };

export type LabelSelector = readonly LabelRequirement[];

const KEY = '[A-Za-z0-9][-A-Za-z0-9_./]*';
const SET_FORM = new RegExp(`^(${KEY})\\s+(in|notin)\\s*\\((.*)\\)$`);
const EQUALITY_FORM = new RegExp(`^(${KEY})\\s*(==|=|!=)\\s*(\\S*)$`);
const ORDER_FORM = new RegExp(`^(${KEY})\\s*([<>])\\s*(\\S+)$`);
const NOT_EXISTS_FORM = new RegExp(`^!\\s*(${KEY})$`);
const EXISTS_FORM = new RegExp(`^(${KEY})$`);

function fail(requirement: string, why: string): never {
  throw badRequest(`unable to parse requirement: ${JSON.stringify(requirement)}: ${why}`);
}

/** Splits on the commas that separate requirements, not those inside `in (...)`. */
function splitRequirements(selector: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let current = '';
  for (const ch of selector) {
    if (ch === '(') depth += 1;
    if (ch === ')') depth -= 1;
    if (ch === ',' && depth === 0) {
      parts.push(current);
      current = '';
    } else {
      current += ch;
    }
  }
  parts.push(current);
  return parts.map((p) => p.trim());
}

function checkKey(requirement: string, key: string): string {
  const errors = qualifiedNameErrors(key);
  if (errors.length > 0) fail(requirement, `key: Invalid value: ${JSON.stringify(key)}: ${errors.join('; ')}`);
  return key;
}

function checkValue(requirement: string, value: string): string {
  const errors = labelValueErrors(value);
  if (errors.length > 0) fail(requirement, `values[0]: Invalid value: ${JSON.stringify(value)}: ${errors.join('; ')}`);
  return value;
}

export function parseLabelSelector(selector: string | null | undefined): LabelSelector {
  if (!selector || selector.trim() === '') return [];
  return splitRequirements(selector).map((part): LabelRequirement => {
    if (part === '') fail(selector, 'found empty requirement');
    let m = SET_FORM.exec(part);
    if (m) {
      const values = (m[3] ?? '').split(',').map((v) => v.trim());
      if (values.length === 1 && values[0] === '') fail(part, "for 'in', 'notin' operators, values set can't be empty");
      return {
        key: checkKey(part, m[1] ?? ''),
        operator: m[2] === 'in' ? 'In' : 'NotIn',
        values: values.map((v) => checkValue(part, v)),
      };
    }
    m = EQUALITY_FORM.exec(part);
    if (m) {
      return { key: checkKey(part, m[1] ?? ''), operator: m[2] === '!=' ? 'NotIn' : 'In', values: [checkValue(part, m[3] ?? '')] };
    }
    m = ORDER_FORM.exec(part);
    if (m) {
      const value = Number(m[3]);
      if (!Number.isInteger(value)) fail(part, `for 'Gt', 'Lt' operators, the value must be an integer`);
      return { key: checkKey(part, m[1] ?? ''), operator: m[2] === '>' ? 'Gt' : 'Lt', value };
    }
    m = NOT_EXISTS_FORM.exec(part);
    if (m) return { key: checkKey(part, m[1] ?? ''), operator: 'DoesNotExist' };
    m = EXISTS_FORM.exec(part);
    if (m) return { key: checkKey(part, m[1] ?? ''), operator: 'Exists' };
    return fail(part, 'expected one of: =, ==, !=, in, notin, <, >, or a bare key');
  });
}

export function matchesLabels(selector: LabelSelector, labels: Readonly<Record<string, string>> | undefined): boolean {
  const set = labels ?? {};
  return selector.every((r) => {
    const has = Object.prototype.hasOwnProperty.call(set, r.key);
    const value = set[r.key];
    switch (r.operator) {
      case 'Exists':
        return has;
      case 'DoesNotExist':
        return !has;
      case 'In':
        return has && value !== undefined && r.values.includes(value);
      case 'NotIn':
        return !has || value === undefined || !r.values.includes(value);
      case 'Gt':
      case 'Lt': {
        if (!has || value === undefined || !/^-?\d+$/.test(value)) return false;
        return r.operator === 'Gt' ? Number(value) > r.value : Number(value) < r.value;
      }
    }
  });
}
