import type { DirectoryFile } from './schema.js';

/** The built-in demo directory: four agents, a supervisor and an admin (passwords = user names), and the
 * `support` queue (DN 7000) of the four agents. */
export const DEMO_DIRECTORY: DirectoryFile = {
  users: [
    { userName: 'agent15000', password: 'agent15000', firstName: 'Ann', lastName: 'Owner', roles: ['ROLE_AGENT'], phoneNumber: '15000', nickname: 'test_consult' },
    { userName: 'agent15001', password: 'agent15001', firstName: 'Ben', lastName: 'Party', roles: ['ROLE_AGENT'], phoneNumber: '15001', nickname: 'chat_consult' },
    { userName: 'agent15002', password: 'agent15002', firstName: 'Cleo', lastName: 'Third', roles: ['ROLE_AGENT'], phoneNumber: '15002' },
    { userName: 'agent15003', password: 'agent15003', firstName: 'Dev', lastName: 'Fourth', roles: ['ROLE_AGENT'], phoneNumber: '15003' },
    { userName: 'super15010', password: 'super15010', firstName: 'Sam', lastName: 'Supervisor', roles: ['ROLE_SUPERVISOR', 'ROLE_AGENT'], phoneNumber: '15010' },
    { userName: 'admin', password: 'admin', firstName: 'Ada', lastName: 'Admin', roles: ['ROLE_ADMIN'] },
  ],
  queues: [{ name: 'support', dn: '7000', members: ['agent15000', 'agent15001', 'agent15002', 'agent15003'], ringTimeoutS: 15, wrapUpS: 0 }],
  clients: [{ clientId: 'conclave-demo', clientSecret: 'conclave-demo', roles: ['ROLE_ADMIN'] }],
};
