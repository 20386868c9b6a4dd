import path from 'node:path';
import { z } from 'zod';
import { list, port, problem, tokens } from './parsers';

const keyId = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, 'expected a key id of letters, digits, ".", "_" or "-" (at most 64)');

/** The Temporal connection, payload encryption and the codec server the UI calls. */
export const TemporalEnv = z.object({
  NIGHTJAR_TEMPORAL_ADDRESS: z.string().min(1).default('127.0.0.1:7233'),
  NIGHTJAR_TEMPORAL_NAMESPACE: z.string().min(1).default('default'),
  NIGHTJAR_TASK_QUEUE: z.string().min(1).optional(),
  NIGHTJAR_TEMPORAL_UI_URL: z.url({ message: 'expected an http(s) URL' }).default('http://localhost:8233'),
  NIGHTJAR_TEMPORAL_TLS_CERT: z.string().min(1).optional(),
  NIGHTJAR_TEMPORAL_TLS_KEY: z.string().min(1).optional(),
  NIGHTJAR_TEMPORAL_TLS_CA: z.string().min(1).optional(),
  NIGHTJAR_TEMPORAL_TLS_SERVER_NAME: z.string().min(1).optional(),
  NIGHTJAR_ENCRYPTION_KEYS_DIR: z.string().min(1).optional(),
  NIGHTJAR_ENCRYPTION_KEY_ID: keyId.optional(),
  NIGHTJAR_ENCRYPTION_PLAINTEXT: z.enum(['accept', 'refuse'], { message: 'expected accept or refuse' }).default('accept'),
  NIGHTJAR_CODEC_HOST: z.string().min(1).default('127.0.0.1'),
  NIGHTJAR_CODEC_PORT: port.default(8089),
  NIGHTJAR_CODEC_CORS_ORIGINS: list.pipe(z.array(z.url({ message: 'expected origins such as http://localhost:8233' }))).optional(),
  NIGHTJAR_CODEC_TOKENS: tokens.optional(),
});
type Env = z.output<typeof TemporalEnv>;

export interface TemporalConfig {
  readonly address: string;
  readonly namespace: string;
  readonly taskQueue: string;
  readonly uiUrl: string;
  /** mTLS to the Temporal frontend (PEM file paths); plain TCP when absent. */
  readonly tls?: { readonly certFile: string; readonly keyFile: string; readonly caFile?: string; readonly serverName?: string };
}

/** AES-256-GCM payload encryption: one file per key id in `keysDir`; `activeKeyId` encrypts, all decrypt. */
export interface EncryptionConfig {
  readonly keysDir: string;
  readonly activeKeyId: string;
  /** What decoding does with an unencrypted payload (docs/runbook.md argues the default, accept). */
  readonly plaintext?: 'accept' | 'refuse';
}

/** The codec server the Temporal UI calls to show decrypted payloads (`nightjar codec-server`). */
export interface CodecServerConfig {
  readonly host: string;
  readonly port: number;
  readonly corsOrigins: readonly string[];
  readonly tokens: readonly string[];
}

/** Variables that only make sense together. */
export function checkTemporalEnv(env: Env, ctx: z.RefinementCtx): void {
  if (env.NIGHTJAR_ENCRYPTION_KEYS_DIR && !env.NIGHTJAR_ENCRYPTION_KEY_ID) {
    problem(ctx, 'NIGHTJAR_ENCRYPTION_KEY_ID', 'required when NIGHTJAR_ENCRYPTION_KEYS_DIR is set (the id of the key that encrypts new payloads)');
  }
  if (env.NIGHTJAR_ENCRYPTION_KEY_ID && !env.NIGHTJAR_ENCRYPTION_KEYS_DIR) {
    problem(ctx, 'NIGHTJAR_ENCRYPTION_KEYS_DIR', 'required when NIGHTJAR_ENCRYPTION_KEY_ID is set (the directory holding one file per key id)');
  }
  if (Boolean(env.NIGHTJAR_TEMPORAL_TLS_CERT) !== Boolean(env.NIGHTJAR_TEMPORAL_TLS_KEY)) {
    problem(
      ctx,
      env.NIGHTJAR_TEMPORAL_TLS_CERT ? 'NIGHTJAR_TEMPORAL_TLS_KEY' : 'NIGHTJAR_TEMPORAL_TLS_CERT',
      'mTLS needs both NIGHTJAR_TEMPORAL_TLS_CERT and NIGHTJAR_TEMPORAL_TLS_KEY (PEM file paths)',
    );
  }
}

/**
 * The task queue of a tenant's nights when NIGHTJAR_TASK_QUEUE is not set: `nightjar` for the
 * default tenant (as before tenants), `nightjar-<tenant>` for any other, so two tenants on one
 * Temporal namespace never share a queue by default.
 */
export function defaultTaskQueue(tenant: string): string {
  return tenant === 'default' ? 'nightjar' : `nightjar-${tenant}`;
}

export function temporalConfig(e: Env, tenant: string): TemporalConfig {
  return {
    address: e.NIGHTJAR_TEMPORAL_ADDRESS,
    namespace: e.NIGHTJAR_TEMPORAL_NAMESPACE,
    taskQueue: e.NIGHTJAR_TASK_QUEUE ?? defaultTaskQueue(tenant),
    uiUrl: e.NIGHTJAR_TEMPORAL_UI_URL.replace(/\/$/, ''),
    ...(e.NIGHTJAR_TEMPORAL_TLS_CERT !== undefined && e.NIGHTJAR_TEMPORAL_TLS_KEY !== undefined
      ? {
          tls: {
            certFile: path.resolve(e.NIGHTJAR_TEMPORAL_TLS_CERT),
            keyFile: path.resolve(e.NIGHTJAR_TEMPORAL_TLS_KEY),
            ...(e.NIGHTJAR_TEMPORAL_TLS_CA !== undefined ? { caFile: path.resolve(e.NIGHTJAR_TEMPORAL_TLS_CA) } : {}),
            ...(e.NIGHTJAR_TEMPORAL_TLS_SERVER_NAME !== undefined ? { serverName: e.NIGHTJAR_TEMPORAL_TLS_SERVER_NAME } : {}),
          },
        }
      : {}),
  };
}

export function encryptionConfig(e: Env, repoRoot: string): { encryption?: EncryptionConfig } {
  return e.NIGHTJAR_ENCRYPTION_KEYS_DIR !== undefined && e.NIGHTJAR_ENCRYPTION_KEY_ID !== undefined
    ? { encryption: { keysDir: path.resolve(repoRoot, e.NIGHTJAR_ENCRYPTION_KEYS_DIR), activeKeyId: e.NIGHTJAR_ENCRYPTION_KEY_ID, plaintext: e.NIGHTJAR_ENCRYPTION_PLAINTEXT } }
    : {};
}

export function codecServerConfig(e: Env): CodecServerConfig {
  return {
    host: e.NIGHTJAR_CODEC_HOST,
    port: e.NIGHTJAR_CODEC_PORT,
    corsOrigins: e.NIGHTJAR_CODEC_CORS_ORIGINS ?? [new URL(e.NIGHTJAR_TEMPORAL_UI_URL).origin],
    tokens: e.NIGHTJAR_CODEC_TOKENS ?? [],
  };
}
