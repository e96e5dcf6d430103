import type { DirectoryUser } from '../../../directory/directory.js';
import type { AgentSession, ChannelName } from '../../../domain/agent/model.js';
import { parseDialOperation } from '../../../domain/voice/commands.js';
import { MONITORING_FEATURE } from '../../../domain/agent/monitoring.js';
import { devicePath, deviceUri, userPath, userUri, type Urls } from './urls.js';

export const userView = (urls: Urls, user: DirectoryUser) => ({
  id: user.id,
  userName: user.userName,
  firstName: user.firstName,
  lastName: user.lastName,
  ...(user.emailAddress ? { emailAddress: user.emailAddress } : {}),
  roles: [...user.roles],
  enabled: true,
  uri: userUri(urls, user.id),
  path: userPath(user.id),
});

/** The agent's state on one channel as GWS shows it: Ready, NotReady, or LoggedOut without a session. */
export const channelUserState = (session: AgentSession | undefined, channel: ChannelName) => {
  const state = session?.channels?.[channel]?.state ?? 'LoggedOut';
  return { id: state, displayName: state === 'NotReady' ? 'Not Ready' : state === 'LoggedOut' ? 'Logged Out' : state, state };
};

/** What a device offers: Dial, and to a supervisor either starting or cancelling monitoring. */
const deviceCapabilities = (user: DirectoryUser, session: AgentSession | undefined): string[] => [
  ...(user.features.includes('api-voice') ? parseDialOperation.names : []),
  ...(user.roles.includes('ROLE_SUPERVISOR') && user.features.includes(MONITORING_FEATURE)
    ? session?.monitoring
      ? ['CancelSupervisorMonitoring']
      : ['ListenIn', 'Coach', 'BargeIn']
    : []),
];

export const deviceView = (urls: Urls, user: DirectoryUser, session: AgentSession | undefined) => ({
  id: user.deviceId as string,
  deviceState: 'Active' as const,
  userState: channelUserState(session, 'voice'),
  phoneNumber: user.phoneNumber as string,
  e164Number: '',
  telephonyNetwork: 'Private' as const,
  doNotDisturb: 'Off' as const,
  capabilities: deviceCapabilities(user, session),
  ...(session?.monitoring
    ? {
        supervisorMonitoringState: {
          state: session.monitoring.mode,
          mode: session.monitoring.callMode,
          scope: session.monitoring.scope,
          targetDeviceUri: deviceUri(urls, session.monitoring.targetDeviceId),
        },
      }
    : {}),
  uri: deviceUri(urls, user.deviceId as string),
  path: devicePath(user.deviceId as string),
});

export const channelsView = (session: AgentSession | undefined) =>
  (Object.keys(session?.channels ?? {}) as ChannelName[]).map((channel) => ({
    channel,
    userState: channelUserState(session, channel),
    capabilities: session?.channels?.[channel]?.state === 'Ready' ? ['NotReady'] : ['Ready'],
  }));
