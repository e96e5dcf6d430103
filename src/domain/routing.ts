/**
 * The one routing rule for every medium: among the candidates still eligible, the one idle the
 * longest (Ready the longest, or longest since last offered work) goes first; ties by user id,
 * so that the choice is deterministic. Chat (domain/chat/routing.ts) and voice queues
 * (domain/voice/routing.ts) both pick with it.
 */
export interface IdleCandidate {
  readonly userId: string;
  /** When the agent became Ready on the channel, or was last offered work there. */
  readonly idleSince: number;
}

export const pickLongestIdle = <C extends IdleCandidate>(candidates: readonly C[], eligible: (c: C) => boolean = () => true): C | undefined =>
  candidates.filter(eligible).sort((a, b) => a.idleSince - b.idleSince || a.userId.localeCompare(b.userId))[0];
