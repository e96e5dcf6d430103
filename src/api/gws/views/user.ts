import type { DirectoryUser } from '../../../directory/directory.js';
import type { AgentSession, ChannelName } from '../../../domain/agent/model.js';
import { parseDialOperation } from '../../../domain/voice/commands.js';
import { MONITORING_FEATURE } from '../../../domain/agent/monitoring.js';
import { VOICE_CHANNEL_OPERATIONS } from '../../../domain/agent/commands.js';
import { deviceSettingUnavailable, NO_DEVICE_SETTINGS } from '../../../domain/agent/decide.js';
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

/**
 * The voice state as the work-cycle pages' DeviceStateChangeMessage shows it: NotReady's variants
 * carry `workMode` (AfterCallWork, AuxWork), Ready its `workmode` when one was given, and
 * NotReady the reason given (the 8.5.0 Query Agent State shape).
 */
export const voiceUserState = (session: AgentSession | undefined) => {
  const voice = session?.channels?.voice;
  if (!voice) return channelUserState(session, 'voice');
  const mode = voice.workMode;
  if (voice.state === 'NotReady' && (mode === 'AfterCallWork' || mode === 'AuxWork'))
    return { id: mode, displayName: mode, state: voice.state, ...(voice.reasonCode ? { reason: voice.reasonCode } : {}), workMode: mode };
  return { ...channelUserState(session, 'voice'), ...(voice.reasonCode ? { reason: voice.reasonCode } : {}), ...(mode ? { workMode: mode } : {}) };
};

/** The device settings that apply now, in the order of the DoNotDisturb and ForwardCalls samples. */
const deviceSettingCapabilities = (session: AgentSession | undefined): string[] => {
  const device = session?.device ?? NO_DEVICE_SETTINGS;
  const order = device.doNotDisturb ? (['DoNotDisturbOff', 'ForwardCallsOn', 'ForwardCallsOff'] as const) : (['ForwardCallsOn', 'ForwardCallsOff', 'DoNotDisturbOn'] as const);
  return order.filter((name) => deviceSettingUnavailable(device, name) === null);
};

/** What a device offers: Dial and its settings, and to a supervisor either starting or cancelling monitoring. */
const deviceCapabilities = (user: DirectoryUser, session: AgentSession | undefined): string[] => [
  ...(user.features.includes('api-voice') ? [...parseDialOperation.names, ...deviceSettingCapabilities(session)] : []),
  ...(user.roles.includes('ROLE_SUPERVISOR') && user.features.includes(MONITORING_FEATURE)
    ? session?.monitoring
      ? ['CancelSupervisorMonitoring']
      : ['ListenIn', 'Coach', 'BargeIn']
    : []),
];

export const deviceView = (urls: Urls, user: DirectoryUser, session: AgentSession | undefined) => ({
  id: user.deviceId as string,
  deviceState: 'Active' as const,
  userState: voiceUserState(session),
  phoneNumber: user.phoneNumber as string,
  e164Number: '',
  telephonyNetwork: 'Private' as const,
  doNotDisturb: session?.device?.doNotDisturb ? ('On' as const) : ('Off' as const),
  ...(session?.device?.forwardTo ? { forwardTo: session.device.forwardTo } : {}),
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
    userState: channel === 'voice' ? voiceUserState(session) : channelUserState(session, channel),
    // Voice: every work-cycle operation applies in every state (repeating the state one is in
    // is accepted and changes nothing), so all four are listed.
    capabilities: channel === 'voice' ? [...VOICE_CHANNEL_OPERATIONS] : session?.channels?.[channel]?.state === 'Ready' ? ['NotReady'] : ['Ready'],
  }));
