import { z } from 'zod';
import { list, port, tokens } from './parsers';

/** The doors nights are triggered through: the HTTP trigger API and the Kafka feed-arrival bridge. */
export const TriggersEnv = z.object({
  NIGHTJAR_HTTP_HOST: z.string().min(1).default('127.0.0.1'),
  NIGHTJAR_HTTP_PORT: port.default(8088),
  NIGHTJAR_HTTP_TOKENS: tokens.optional(),
  NIGHTJAR_KAFKA_BROKERS: list.optional(),
  NIGHTJAR_KAFKA_TOPIC: z.string().min(1).default('nightjar.feed-arrivals'),
  NIGHTJAR_KAFKA_DLQ_TOPIC: z.string().min(1).default('nightjar.feed-arrivals.dlq'),
  NIGHTJAR_KAFKA_GROUP: z.string().min(1).default('nightjar-feed-bridge'),
});
type Env = z.output<typeof TriggersEnv>;

/** The HTTP trigger API (served by `nightjar triggers` when tokens are configured). */
export interface HttpConfig {
  readonly host: string;
  readonly port: number;
  readonly tokens: readonly string[];
}

/** The Kafka feed-arrival bridge (run by `nightjar triggers` when brokers are configured). */
export interface KafkaConfig {
  readonly brokers: readonly string[];
  readonly topic: string;
  readonly dlqTopic: string;
  readonly groupId: string;
}

export function triggersConfig(e: Env): { http: HttpConfig; kafka?: KafkaConfig } {
  return {
    http: { host: e.NIGHTJAR_HTTP_HOST, port: e.NIGHTJAR_HTTP_PORT, tokens: e.NIGHTJAR_HTTP_TOKENS ?? [] },
    ...(e.NIGHTJAR_KAFKA_BROKERS !== undefined && e.NIGHTJAR_KAFKA_BROKERS.length > 0
      ? { kafka: { brokers: e.NIGHTJAR_KAFKA_BROKERS, topic: e.NIGHTJAR_KAFKA_TOPIC, dlqTopic: e.NIGHTJAR_KAFKA_DLQ_TOPIC, groupId: e.NIGHTJAR_KAFKA_GROUP } }
      : {}),
  };
}
