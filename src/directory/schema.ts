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
  },
  { additionalProperties: false },
);
export type OAuthClientEntry = Static<typeof OAuthClientEntry>;

export const DirectoryFile = Type.Object(
  {
    users: Type.Array(DirectoryUserEntry, { minItems: 1 }),
    /** OAuth clients of the Genesys Cloud dialect (client-credentials grant). */
    clients: Type.Optional(Type.Array(OAuthClientEntry)),
  },
  // Later sections (OAuth clients, chat services, compliance) are added here as they land.
  { additionalProperties: true },
);
export type DirectoryFile = Static<typeof DirectoryFile>;
