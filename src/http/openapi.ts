/**
 * The route schemas publish themselves: @fastify/swagger collects every route's schema into one
 * OpenAPI document, and each dialect's part of it is served at /openapi/{dialect}.json, so a
 * user can generate a client or read the API without reading the code. Operation bodies are
 * parsed by the domain's schema tables (the contract's refusal order needs the resource found
 * first), so those schemas are attached to the document as documentation.
 */
import swagger from '@fastify/swagger';
import type { App } from './app.js';
import { DEVICE_SCHEMAS, SESSION_SCHEMAS, VOICE_CHANNEL_SCHEMAS } from '../domain/agent/commands.js';
import { CHAT_SCHEMAS, INTRUDE_SCHEMAS } from '../domain/chat/commands.js';
import type { SchemaTable } from '../domain/commands/parse.js';
import { DEVICE_CALL_SCHEMAS, VOICE_CALL_SCHEMAS } from '../domain/voice/commands.js';

/** The GWS operation routes and the schema table their bodies are parsed with. */
const OPERATION_BODIES: Readonly<Record<string, SchemaTable>> = {
  '/api/v2/me': SESSION_SCHEMAS,
  '/api/v2/me/channels/{channel}': VOICE_CHANNEL_SCHEMAS,
  '/api/v2/me/devices/{id}': DEVICE_SCHEMAS,
  '/api/v2/me/devices/{id}/calls': DEVICE_CALL_SCHEMAS,
  '/api/v2/me/calls/{id}': VOICE_CALL_SCHEMAS,
  '/api/v2/me/chats/{id}': CHAT_SCHEMAS,
  '/api/v2/users/{userId}/chats/{chatId}': INTRUDE_SCHEMAS,
};

/** One body schema per operation, each with its operationName fixed. */
const requestBody = (table: SchemaTable) => ({
  required: true,
  content: {
    'application/json': {
      schema: {
        oneOf: Object.entries(table).map(([name, schema]) => {
          const json = JSON.parse(JSON.stringify(schema)) as { properties?: Record<string, unknown>; required?: string[] };
          return { ...json, title: name, properties: { ...json.properties, operationName: { type: 'string', enum: [name] } } };
        }),
      },
    },
  },
});

export const DIALECTS = {
  gws: { prefix: '/api/v2', title: 'Conclave — Genesys Web Services (GWS) v2 dialect' },
  cloud: { prefix: '/cloud', title: 'Conclave — Genesys Cloud dialect' },
  conclave: { prefix: '/conclave/v1', title: 'Conclave — native API (compliance, simulation)' },
  'customer-chat': { prefix: '/genesys/2/chat', title: 'Conclave — customer chat API (GMS Chat API v2 style)' },
} as const;
export type Dialect = keyof typeof DIALECTS;

interface OpenApiDocument {
  openapi: string;
  info: { title: string; version: string };
  paths?: Record<string, unknown>;
  [key: string]: unknown;
}

/** Registers the collector; call before any dialect's routes are registered. */
export const registerOpenApi = async (app: App, version: string) => {
  await app.register(swagger, {
    openapi: { openapi: '3.0.3', info: { title: 'Conclave', version } },
  });
};

/** Serves each dialect's document; call after every route is registered. */
export const serveOpenApi = (app: App) => {
  for (const [dialect, { prefix, title }] of Object.entries(DIALECTS))
    app.get(`/openapi/${dialect}.json`, { schema: { hide: true } }, async () => {
      const whole = app.swagger() as unknown as OpenApiDocument;
      const paths = Object.fromEntries(
        Object.entries(whole.paths ?? {})
          .filter(([path]) => path === prefix || path.startsWith(`${prefix}/`))
          .map(([path, item]) => {
            const table = OPERATION_BODIES[path];
            const methods = item as Record<string, Record<string, unknown>>;
            return table && methods['post'] ? [path, { ...methods, post: { ...methods['post'], requestBody: requestBody(table) } }] : [path, item];
          }),
      );
      return { ...whole, info: { ...whole.info, title }, paths };
    });
};
