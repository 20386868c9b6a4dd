/**
 * The typed errors of payload encryption. Each carries a stable `type` (constructor names do not
 * survive bundlers) and a message that names the key id or the file at fault.
 */

export const CodecErrorType = {
  /** The keys directory or one of its files is unusable (missing, empty, wrong length). */
  KeyStoreInvalid: 'EncryptionKeyStoreInvalid',
  /** A payload names a key id this process does not hold. */
  UnknownKey: 'EncryptionKeyUnknown',
  /** AES-GCM authentication failed: the payload was tampered with, or the key is not the one that encrypted it. */
  AuthenticationFailed: 'PayloadAuthenticationFailed',
  /** An encrypted payload is structurally broken (no key id, too short to hold an IV and a tag). */
  Malformed: 'EncryptedPayloadMalformed',
  /** A payload arrived unencrypted while the policy (NIGHTJAR_ENCRYPTION_PLAINTEXT=refuse) requires encryption. */
  NotEncrypted: 'PayloadNotEncrypted',
} as const;

export type CodecErrorType = (typeof CodecErrorType)[keyof typeof CodecErrorType];

/** The keys directory cannot be used; the message names the directory or file and what is wrong. */
export class KeyStoreError extends Error {
  override readonly name = 'KeyStoreError';
  readonly type = CodecErrorType.KeyStoreInvalid;
}

/** A payload could not be decrypted. Never swallowed: a night must not read what it cannot trust. */
export class PayloadDecryptionError extends Error {
  override readonly name = 'PayloadDecryptionError';
  constructor(
    readonly type: Exclude<CodecErrorType, typeof CodecErrorType.KeyStoreInvalid>,
    readonly keyId: string | undefined,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}
