/**
 * The trigger services of a deployment: the HTTP API and the Kafka bridge, both handing what
 * they receive to the same Temporal-backed triggers. Run by `nightjar triggers`.
 */
import type { Client } from '@temporalio/client';
import type { Logger } from 'pino';
import type { NightjarConfig } from '../config/config';
import { TriggerRejected } from './errors';
import { createTriggerServer } from './http-api';
import { KafkaBridge } from './kafka-bridge';
import { TemporalNightTriggers, triggerTargetOf } from './temporal-triggers';

export interface RunningTriggers {
  readonly httpUrl?: string;
  readonly kafkaTopic?: string;
  stop(): Promise<void>;
}

export async function serveTriggers(config: NightjarConfig, client: Client, logger: Logger): Promise<RunningTriggers> {
  const target = triggerTargetOf(config);
  const triggers = new TemporalNightTriggers(client, target);
  const stops: (() => Promise<void>)[] = [];
  let httpUrl: string | undefined;
  let kafkaTopic: string | undefined;
  try {
    if (config.http.tokens.length > 0) {
      const server = createTriggerServer({ triggers, policy: target.policy, tokens: config.http.tokens, logger: logger.child({ component: 'http-api' }) });
      httpUrl = (await server.listen(config.http.port, config.http.host)).url;
      stops.push(() => server.close());
      logger.info({ url: httpUrl }, 'HTTP trigger API listening');
    }
    if (config.kafka !== undefined) {
      const bridge = new KafkaBridge({
        brokers: config.kafka.brokers,
        topic: config.kafka.topic,
        dlqTopic: config.kafka.dlqTopic,
        groupId: config.kafka.groupId,
        clientId: `nightjar-${config.tenant}`,
        logger: logger.child({ component: 'kafka-bridge' }),
        // Refusals (another tenant's night, a date outside the window, a night already completed) go
        // to the dead-letter topic with their reason; the rest is retried.
        isPermanent: (error) => error instanceof TriggerRejected,
        deliver: async (arrival) => {
          await triggers.reportFeedArrival(arrival);
        },
      });
      await bridge.start();
      kafkaTopic = config.kafka.topic;
      stops.push(() => bridge.stop());
      logger.info({ brokers: config.kafka.brokers, topic: config.kafka.topic }, 'Kafka feed-arrival bridge consuming');
    }
  } catch (error) {
    for (const stop of stops.reverse()) await stop().catch(() => undefined);
    throw error;
  }
  if (stops.length === 0) {
    throw new Error('nothing to serve: set NIGHTJAR_HTTP_TOKENS for the HTTP API and/or NIGHTJAR_KAFKA_BROKERS for the Kafka bridge');
  }
  return {
    ...(httpUrl ? { httpUrl } : {}),
    ...(kafkaTopic ? { kafkaTopic } : {}),
    async stop() {
      for (const stop of stops.reverse()) await stop();
    },
  };
}
