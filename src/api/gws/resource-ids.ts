/** Reads ids out of the GWS URIs and paths that Conclave hands out (views/urls.ts writes them). */
import type { ResourceRefs } from '../../domain/refs.js';

const lastSegment = (uri: string): string => {
  const trimmed = uri.replace(/[?#].*$/, '').replace(/\/+$/, '');
  const at = trimmed.lastIndexOf('/');
  return at >= 0 ? trimmed.slice(at + 1) : trimmed;
};

export const gwsRefs: ResourceRefs = {
  callIdOf: lastSegment,
  userIdOf: (ref) => {
    const match = /(?:^|\/)users\/([0-9a-f]{32})\/?$/.exec(ref.trim());
    return match ? (match[1] as string) : null;
  },
  deviceIdOf: lastSegment,
};
