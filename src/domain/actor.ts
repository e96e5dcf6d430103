/** Who is asking. Built from the directory by the edge; the domain never looks users up itself. */
/** GWS roles, plus ROLE_COMPLIANCE: may raise compliance flags and read the audit. */
export const ROLES = ['ROLE_AGENT', 'ROLE_SUPERVISOR', 'ROLE_ADMIN', 'ROLE_COMPLIANCE'] as const;
export type Role = (typeof ROLES)[number];

export const FEATURES = ['api-voice', 'api-multimedia', 'api-supervisor-monitoring', 'api-voice-recording'] as const;
export type Feature = (typeof FEATURES)[number];

export interface Actor {
  readonly userId: string;
  readonly userName: string;
  /** The user's device DN; null for a user without a device. */
  readonly dn: string | null;
  readonly roles: readonly Role[];
  readonly features: readonly Feature[];
}

export const hasFeature = (actor: Actor, feature: Feature): boolean => actor.features.includes(feature);
export const hasRole = (actor: Actor, role: Role): boolean => actor.roles.includes(role);
