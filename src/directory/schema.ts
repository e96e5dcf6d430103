/** The directory file's shape (JSON or YAML), as a TypeBox schema that validates and types it. */
import Type, { type Static } from 'typebox';
import { FEATURES, ROLES } from '../domain/actor.js';

export const DirectoryUserEntry = Type.Object(
  {
    userName: Type.String({ minLength: 1, maxLength: 128 }),
    password: Type.String({ minLength: 1, maxLength: 1024 }),
    firstName: Type.Optional(Type.String({ maxLength: 256 })),
    lastName: Type.Optional(Type.String({ maxLength: 256 })),
    emailAddress: Type.Optional(Type.String({ maxLength: 256 })),
    roles: Type.Array(Type.Enum(ROLES), { minItems: 1, uniqueItems: true }),
    phoneNumber: Type.Optional(Type.String({ pattern: '^[0-9+*#]{1,32}$' })),
    nickname: Type.Optional(Type.String({ minLength: 1, maxLength: 256 })),
    features: Type.Optional(Type.Array(Type.Enum(FEATURES), { uniqueItems: true })),
    /** Calls on this user's DN can be recorded (SIP Server's `record` DN option); default false. */
    recording: Type.Optional(Type.Boolean()),
    id: Type.Optional(Type.String({ pattern: '^[0-9a-f]{32}$' })),
  },
  { additionalProperties: false },
);
export type DirectoryUserEntry = Static<typeof DirectoryUserEntry>;

export const OAuthClientEntry = Type.Object(
  {
    clientId: Type.String({ minLength: 1, maxLength: 256 }),
    clientSecret: Type.String({ minLength: 1, maxLength: 1024 }),
    roles: Type.Array(Type.Enum(ROLES), { minItems: 1, uniqueItems: true }),
    /** Lifetime of this client's access tokens (Cloud OAuthClient.accessTokenValiditySeconds); default 86400. */
    tokenTtlS: Type.Optional(Type.Integer({ minimum: 1, maximum: 31_536_000 })),
    /** The directory user an agent-level client acts for: it reads only that user's conversations. */
    userName: Type.Optional(Type.String({ minLength: 1, maxLength: 256 })),
  },
  { additionalProperties: false },
);
export type OAuthClientEntry = Static<typeof OAuthClientEntry>;

/** A voice queue: calls to its name or DN are offered to its members, longest Ready first. */
export const QueueEntry = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 128, pattern: '^[A-Za-z0-9_.-]+$' }),
    dn: Type.String({ pattern: '^[0-9+*#]{1,32}$' }),
    members: Type.Array(Type.String({ minLength: 1, maxLength: 128 }), { uniqueItems: true }),
    ringTimeoutS: Type.Optional(Type.Integer({ minimum: 1, maximum: 3600 })),
    wrapUpS: Type.Optional(Type.Integer({ minimum: 0, maximum: 3600 })),
  },
  { additionalProperties: false },
);
export type QueueEntry = Static<typeof QueueEntry>;

export const DirectoryFile = Type.Object(
  {
    users: Type.Array(DirectoryUserEntry, { minItems: 1 }),
    /** OAuth clients of the Genesys Cloud dialect (client-credentials grant). */
    clients: Type.Optional(Type.Array(OAuthClientEntry)),
    /** Voice queues (routing): name, DN, member user names, ring timeout and wrap-up time. */
    queues: Type.Optional(Type.Array(QueueEntry)),
  },
  // Later sections (OAuth clients, chat services, compliance) are added here as they land.
  { additionalProperties: true },
);
export type DirectoryFile = Static<typeof DirectoryFile>;
