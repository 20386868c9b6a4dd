/**
 * Payload encryption keys: a directory with one file per key id, each holding the base64 of 32
 * random bytes. Rotation is adding a file and switching NIGHTJAR_ENCRYPTION_KEY_ID: the active
 * key encrypts, every key in the directory decrypts, so histories written under an older key
 * stay readable for as long as its file is kept.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { KeyStoreError } from './errors';

/** AES-256: 32 bytes of key. */
export const KEY_BYTES = 32;

/** The same rule as NIGHTJAR_ENCRYPTION_KEY_ID: the id is a file name and travels in payload metadata. */
export const KEY_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

export interface KeyRing {
  /** The key new payloads are encrypted with. */
  readonly activeKeyId: string;
  /** Every key that may decrypt, by id. */
  readonly keys: ReadonlyMap<string, Buffer>;
  /** Where the keys were read from (named by errors about a key that is not there). */
  readonly source?: string;
}

/** Decodes one key file's content (surrounding whitespace ignored), naming the file when it is not a key. */
export function parseKey(content: string, file: string): Buffer {
  const text = content.trim();
  if (text.length === 0) throw new KeyStoreError(`key file ${file} is empty: expected the base64 of ${KEY_BYTES} random bytes`);
  if (!BASE64.test(text)) throw new KeyStoreError(`key file ${file} is not base64: expected the base64 of ${KEY_BYTES} random bytes`);
  const key = Buffer.from(text, 'base64');
  if (key.length !== KEY_BYTES) {
    throw new KeyStoreError(`key file ${file} holds ${key.length} bytes, expected ${KEY_BYTES} (AES-256): create keys with 'nightjar keys create'`);
  }
  return key;
}

/**
 * Loads every key in `dir`. Entries starting with a dot are skipped: a Kubernetes Secret volume
 * keeps its real files under `..data` and links each key beside it.
 */
export function loadKeyRing(dir: string, activeKeyId: string): KeyRing {
  let entries: fs.Dirent[];
  try {
    entries = fs.readdirSync(dir, { withFileTypes: true });
  } catch (error) {
    const why = (error as NodeJS.ErrnoException).code ?? String(error);
    throw new KeyStoreError(`cannot read the encryption keys directory ${dir}: ${why}`, { cause: error });
  }
  const keys = new Map<string, Buffer>();
  for (const entry of entries) {
    if (entry.name.startsWith('.')) continue;
    const file = path.join(dir, entry.name);
    let stat: fs.Stats;
    try {
      // A symbolic link counts when it points to a regular file.
      stat = fs.statSync(file);
    } catch (error) {
      throw new KeyStoreError(`cannot read key file ${file}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`, { cause: error });
    }
    if (!stat.isFile()) continue;
    if (!KEY_ID_PATTERN.test(entry.name)) {
      throw new KeyStoreError(`key file ${file}: its name is the key id and must be letters, digits, ".", "_" or "-" (at most 64)`);
    }
    keys.set(entry.name, parseKey(fs.readFileSync(file, 'utf8'), file));
  }
  if (keys.size === 0) throw new KeyStoreError(`the encryption keys directory ${dir} holds no key: create one with 'nightjar keys create --dir ${dir} --id <id>'`);
  if (!keys.has(activeKeyId)) {
    throw new KeyStoreError(
      `the active key '${activeKeyId}' (NIGHTJAR_ENCRYPTION_KEY_ID) has no file ${path.join(dir, activeKeyId)}; keys present: ${[...keys.keys()].sort().join(', ')}`,
    );
  }
  return { activeKeyId, keys, source: dir };
}

/** Writes a new random key readable by its owner only; an existing key is never overwritten. */
export function createKey(dir: string, id: string): string {
  if (!KEY_ID_PATTERN.test(id)) throw new KeyStoreError(`invalid key id '${id}': expected letters, digits, ".", "_" or "-" (at most 64), starting with a letter or digit`);
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  const file = path.join(dir, id);
  try {
    // 'wx' fails when the file exists: overwriting a key would make its payloads unreadable.
    fs.writeFileSync(file, `${randomBytes(KEY_BYTES).toString('base64')}\n`, { flag: 'wx', mode: 0o600 });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') {
      throw new KeyStoreError(`key file ${file} already exists: a key is never overwritten (payloads encrypted with it would become unreadable); choose a new id`, { cause: error });
    }
    throw error;
  }
  // The mode given to writeFileSync is filtered by the umask; make it exact.
  fs.chmodSync(file, 0o600);
  return file;
}

/** The key ids in `dir` (file names that are key ids), sorted; none when it does not exist. */
export function keyIdsIn(dir: string): string[] {
  try {
    return fs
      .readdirSync(dir)
      .filter((name) => !name.startsWith('.') && KEY_ID_PATTERN.test(name))
      .sort();
  } catch {
    return [];
  }
}

/** True when `dir` holds at least one key file (used by the demo to create its key once). */
export function hasKeys(dir: string): boolean {
  return keyIdsIn(dir).length > 0;
}

/**
 * A new key id for a data directory: `<prefix>-<YYYYMMDD>-<8 hex>`. Each directory's key gets an
 * id of its own, so two data directories never hold different keys under one id (a codec server
 * holding the other key would otherwise fail with "authentication failed" instead of "unknown
 * key"), and ids created later sort after earlier ones.
 */
export function newKeyId(prefix = 'key', now = new Date()): string {
  return `${prefix}-${now.toISOString().slice(0, 10).replace(/-/g, '')}-${randomBytes(4).toString('hex')}`;
}

/**
 * The key a data directory's own keys directory encrypts with: the id that sorts last (ids from
 * `newKeyId` sort by creation date), or undefined when the directory holds no key.
 */
export function activeKeyIdIn(dir: string): string | undefined {
  const ids = keyIdsIn(dir);
  return ids[ids.length - 1];
}
