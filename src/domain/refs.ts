/**
 * How a client names another resource in a parameter (a consultation by its call URI, a chat
 * target by its user URI, a device to monitor by its URI). The URLs belong to the dialect that
 * hands them out, so the dialect reads them: the domain only receives these functions.
 */
export interface ResourceRefs {
  /** The call id in a call URI or path; a bare id stays as it is. */
  callIdOf(uri: string): string;
  /** The user id in a user URI or path, or null when it names no user. */
  userIdOf(ref: string): string | null;
  /** The device id in a device URI or path. */
  deviceIdOf(uri: string): string;
}
