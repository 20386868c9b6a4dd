import type { Logger } from 'pino';
import { PgliteReportingStore } from './pglite';
import { PostgresReportingStore } from './postgres';
import type { ReportingStore } from './store';

export type ReportingStoreConfig =
  | { readonly kind: 'postgres'; readonly url: string }
  | { readonly kind: 'pglite'; readonly dataDir: string };

/** The reporting store the configuration names. Nothing connects until first use. */
export function createReportingStore(config: ReportingStoreConfig, deps: { readonly logger?: Logger } = {}): ReportingStore {
  switch (config.kind) {
    case 'postgres':
      return new PostgresReportingStore({ connectionString: config.url, logger: deps.logger });
    case 'pglite':
      return new PgliteReportingStore({ dataDir: config.dataDir, logger: deps.logger });
    default: {
      const unknown: never = config;
      throw new Error(`unknown reporting store kind: ${JSON.stringify(unknown)}`);
    }
  }
}
