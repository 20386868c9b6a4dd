/**
 * The one place that turns configuration into how Nightjar reaches Temporal: connection options
 * (with mTLS when configured) for the client and the worker, and the data converter every client
 * and the worker share. A client built elsewhere would write plain-text payloads into histories
 * that are meant to be encrypted, so everything that talks to Temporal comes through here.
 */
import fs from 'node:fs';
import { Client, Connection, type ConnectionOptions } from '@temporalio/client';
import type { DataConverter, PayloadCodec } from '@temporalio/common';
import type { NativeConnectionOptions } from '@temporalio/worker';
import { AesGcmCodec } from '../codec/aes-gcm-codec';
import { KeyStoreError } from '../codec/errors';
import { loadKeyRing } from '../codec/keys';
import { ConfigError, type NightjarConfig } from '../config/config';

/** The module that exports the encrypting deployment's `failureConverter` (workers bundle it into workflow code). */
export const FAILURE_CONVERTER_PATH = require.resolve('../codec/failure-converter');

type TlsOptions = NonNullable<Exclude<ConnectionOptions['tls'], boolean | null>>;

function readPem(variable: string, file: string): Buffer {
  try {
    return fs.readFileSync(file);
  } catch (error) {
    const why = (error as NodeJS.ErrnoException).code ?? String(error);
    throw new ConfigError([`${variable}=${JSON.stringify(file)}: cannot read the PEM file (${why})`]);
  }
}

/** mTLS settings read from the PEM files of the configuration; undefined for plain TCP. */
export function tlsOptions(config: NightjarConfig): TlsOptions | undefined {
  const tls = config.temporal.tls;
  if (tls === undefined) return undefined;
  return {
    clientCertPair: { crt: readPem('NIGHTJAR_TEMPORAL_TLS_CERT', tls.certFile), key: readPem('NIGHTJAR_TEMPORAL_TLS_KEY', tls.keyFile) },
    ...(tls.caFile !== undefined ? { serverRootCACertificate: readPem('NIGHTJAR_TEMPORAL_TLS_CA', tls.caFile) } : {}),
    ...(tls.serverName !== undefined ? { serverNameOverride: tls.serverName } : {}),
  };
}

/** Options for `Connection.connect` (clients). */
export function connectionOptions(config: NightjarConfig): ConnectionOptions {
  const tls = tlsOptions(config);
  return { address: config.temporal.address, ...(tls !== undefined ? { tls } : {}) };
}

/** Options for `NativeConnection.connect` (the worker). */
export function nativeConnectionOptions(config: NightjarConfig): NativeConnectionOptions {
  const tls = tlsOptions(config);
  return { address: config.temporal.address, ...(tls !== undefined ? { tls } : {}) };
}

/** The payload codec of the configuration, or undefined when encryption is not configured. */
export function payloadCodec(config: NightjarConfig): AesGcmCodec | undefined {
  const encryption = config.encryption;
  if (encryption === undefined) return undefined;
  try {
    return new AesGcmCodec(loadKeyRing(encryption.keysDir, encryption.activeKeyId), encryption.plaintext);
  } catch (error) {
    if (error instanceof KeyStoreError) throw new ConfigError([`NIGHTJAR_ENCRYPTION_KEYS_DIR=${JSON.stringify(encryption.keysDir)}: ${error.message}`]);
    throw error;
  }
}

/**
 * The data converter of every client and the worker. With encryption configured: payloads go
 * through the AES-GCM codec and failures carry their message and stack trace as an encoded (thus
 * encrypted) payload. Without it: the SDK's defaults.
 */
export function dataConverter(config: NightjarConfig, codec: PayloadCodec | undefined = payloadCodec(config)): DataConverter {
  if (codec === undefined) return {};
  return { payloadCodecs: [codec], failureConverterPath: FAILURE_CONVERTER_PATH };
}

/** A client and the connection under it. */
export interface TemporalClientSession {
  readonly client: Client;
  readonly connection: Connection;
  close(): Promise<void>;
}

/**
 * Connects a client with the configuration's TLS and data converter. Key and certificate problems
 * are raised (as ConfigError) before any network call, so they are not mistaken for an outage.
 */
export async function connectClient(config: NightjarConfig): Promise<TemporalClientSession> {
  const converter = dataConverter(config);
  const options = connectionOptions(config);
  const connection = await Connection.connect(options);
  return {
    client: new Client({ connection, namespace: config.temporal.namespace, dataConverter: converter }),
    connection,
    close: () => connection.close(),
  };
}
