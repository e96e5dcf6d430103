/**
 * What a Cloud client may read, as Genesys Cloud's permissions decide it. A client whose roles
 * include ROLE_ADMIN, ROLE_COMPLIANCE or ROLE_SUPERVISOR is an orchestrator: it reads every
 * conversation and may subscribe to any topic (Cloud: conversation:call:view, analytics views,
 * notifications for any user). Any other client (an agent-level integration) acts for the one
 * directory user its entry names (`userName`): it reads only the conversations that user is or
 * was a party of, subscribes only to that user's topics, and runs no analytics query. A client of
 * that kind with no user reads nothing.
 */
import type { Directory, OAuthClient } from '../../directory/directory.js';
import type { Call } from '../../domain/voice/model.js';

const SEES_EVERYTHING = ['ROLE_ADMIN', 'ROLE_COMPLIANCE', 'ROLE_SUPERVISOR'] as const;

export interface Access {
  readonly all: boolean;
  readonly userId: string | null;
  readonly dn: string | null;
}

export const accessOf = (client: OAuthClient, directory: Directory): Access => {
  if (SEES_EVERYTHING.some((r) => client.roles.includes(r))) return { all: true, userId: null, dn: null };
  const user = client.userId !== null ? directory.byId(client.userId) : undefined;
  return { all: false, userId: user?.id ?? null, dn: user?.phoneNumber ?? null };
};

export const mayRead = (access: Access, call: Call): boolean =>
  access.all || (access.dn !== null && call.parties.some((p) => p.dn === access.dn && !p.monitor));

/** A topic's user id, or the queue topic (for orchestrators only). */
export const mayWatch = (access: Access, topic: string): boolean => {
  if (access.all) return true;
  const user = /^v2\.users\.([0-9a-f]{32})\./.exec(topic)?.[1];
  return user !== undefined && user === access.userId;
};

export const MISSING_PERMISSION = 'missing.permissions';
