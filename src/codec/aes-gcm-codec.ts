/**
 * A PayloadCodec that encrypts each whole Payload (metadata included, so not even the encoding
 * of a value leaks) with AES-256-GCM. The output payload says only that it is encrypted and
 * with which key; its data is IV (12 bytes) ‖ ciphertext ‖ authentication tag (16 bytes).
 * The key id is bound as additional authenticated data, so relabelling a payload fails too.
 *
 * Codecs run in the client and the worker, outside the workflow sandbox: workflow code never
 * sees ciphertext and needs no change.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import type { Payload, PayloadCodec } from '@temporalio/common';
import { temporal } from '@temporalio/proto';
import { CodecErrorType, PayloadDecryptionError } from './errors';
import type { KeyRing } from './keys';

export const ENCRYPTED_ENCODING = 'binary/encrypted';
export const KEY_ID_METADATA = 'encryption-key-id';
const ALGORITHM = 'aes-256-gcm';
const IV_BYTES = 12;
const TAG_BYTES = 16;

const utf8 = (s: string): Uint8Array => Buffer.from(s, 'utf8');
const text = (b: Uint8Array | null | undefined): string | undefined => (b == null ? undefined : Buffer.from(b).toString('utf8'));

/** True when the payload is one this codec produced (by any key). */
export function isEncrypted(payload: Payload): boolean {
  return text(payload.metadata?.encoding) === ENCRYPTED_ENCODING;
}

/** The key id an encrypted payload names, if any. */
export function keyIdOf(payload: Payload): string | undefined {
  return text(payload.metadata?.[KEY_ID_METADATA]);
}

/** What to say about a payload whose key is not held: the id, where keys were looked for, what to do. */
export function unknownKeyMessage(keyId: string, held: readonly string[], source: string | undefined): string {
  const where = source === undefined ? 'the keys this process holds' : `the keys directory ${source}`;
  return (
    `payload encrypted with key '${keyId}', which is not in ${where} (keys held: ${held.join(', ') || 'none'}): ` +
    `copy that key file into ${source ?? 'the keys directory'}, or point NIGHTJAR_ENCRYPTION_KEYS_DIR (or --data-dir) at the directory that holds it`
  );
}

/**
 * What decoding does with a payload that is not encrypted: `accept` passes it through (histories
 * written before encryption was turned on, input typed without the codec), `refuse` fails it with
 * `PayloadNotEncrypted`. See the runbook for why `accept` is the default.
 */
export type PlaintextPolicy = 'accept' | 'refuse';

export class AesGcmCodec implements PayloadCodec {
  constructor(
    private readonly keyRing: KeyRing,
    private readonly plaintext: PlaintextPolicy = 'accept',
  ) {}

  get activeKeyId(): string {
    return this.keyRing.activeKeyId;
  }

  /** The ids of every key that decrypts (never the keys). */
  get keyIds(): string[] {
    return [...this.keyRing.keys.keys()].sort();
  }

  async encode(payloads: Payload[]): Promise<Payload[]> {
    return payloads.map((p) => this.encrypt(p));
  }

  /** Unencrypted payloads pass through (old histories still read) unless the policy refuses them. */
  async decode(payloads: Payload[]): Promise<Payload[]> {
    return payloads.map((p) => (isEncrypted(p) ? this.decrypt(p) : this.unencrypted(p)));
  }

  private unencrypted(payload: Payload): Payload {
    if (this.plaintext === 'accept') return payload;
    const encoding = text(payload.metadata?.encoding) ?? '(none)';
    throw new PayloadDecryptionError(
      CodecErrorType.NotEncrypted,
      undefined,
      `an unencrypted payload (encoding ${encoding}) was refused: encryption is required (NIGHTJAR_ENCRYPTION_PLAINTEXT=refuse); send it through the codec (temporal … --codec-endpoint)`,
    );
  }

  encrypt(payload: Payload): Payload {
    const keyId = this.keyRing.activeKeyId;
    const key = this.keyRing.keys.get(keyId) as Buffer;
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv(ALGORITHM, key, iv, { authTagLength: TAG_BYTES });
    cipher.setAAD(utf8(keyId));
    const plain = temporal.api.common.v1.Payload.encode(payload).finish();
    const data = Buffer.concat([iv, cipher.update(plain), cipher.final(), cipher.getAuthTag()]);
    return {
      metadata: { encoding: utf8(ENCRYPTED_ENCODING), [KEY_ID_METADATA]: utf8(keyId) },
      data,
    };
  }

  decrypt(payload: Payload): Payload {
    const keyId = keyIdOf(payload);
    if (keyId === undefined) {
      throw new PayloadDecryptionError(CodecErrorType.Malformed, undefined, `encrypted payload without an '${KEY_ID_METADATA}' metadata entry: cannot tell which key decrypts it`);
    }
    const key = this.keyRing.keys.get(keyId);
    if (key === undefined) {
      throw new PayloadDecryptionError(
        CodecErrorType.UnknownKey,
        keyId,
        unknownKeyMessage(keyId, this.keyIds, this.keyRing.source),
      );
    }
    const data = payload.data ?? new Uint8Array();
    if (data.length < IV_BYTES + TAG_BYTES) {
      throw new PayloadDecryptionError(CodecErrorType.Malformed, keyId, `encrypted payload (key '${keyId}') is ${data.length} bytes, too short to hold an IV and an authentication tag`);
    }
    const bytes = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
    const decipher = createDecipheriv(ALGORITHM, key, bytes.subarray(0, IV_BYTES), { authTagLength: TAG_BYTES });
    decipher.setAAD(utf8(keyId));
    decipher.setAuthTag(bytes.subarray(bytes.length - TAG_BYTES));
    let plain: Buffer;
    try {
      plain = Buffer.concat([decipher.update(bytes.subarray(IV_BYTES, bytes.length - TAG_BYTES)), decipher.final()]);
    } catch (error) {
      throw new PayloadDecryptionError(
        CodecErrorType.AuthenticationFailed,
        keyId,
        `cannot decrypt payload with key '${keyId}': authentication failed, payload tampered or wrong key`,
        { cause: error },
      );
    }
    return temporal.api.common.v1.Payload.decode(plain);
  }
}
