import { randomBytes } from 'node:crypto';
import type { Clock, IdSource } from './ports.js';

const ALPHABET = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ';

export const randomIds: IdSource = {
  callId: () => Array.from(randomBytes(32), (b) => ALPHABET[b % ALPHABET.length]).join(''),
  connId: () => randomBytes(8).toString('hex').toUpperCase(),
};

export const systemClock: Clock = { now: () => Date.now() };
