/** The directory as the domain and the engine need it: DNs, devices, and who can take chats. */
import { isNotYetServedQueue, type Directory } from './directory.js';

export const domainDirectoryOf = (directory: Directory) => {
  const chatUser = (userId: string) => {
    const user = directory.byId(userId);
    const agent = user && user.features.includes('api-multimedia') && (user.roles.includes('ROLE_AGENT') || user.roles.includes('ROLE_SUPERVISOR'));
    return agent ? { id: user.id, nickname: user.nickname } : undefined;
  };
  return {
    isKnownDn: directory.isKnownDn,
    dnCount: directory.dnCount,
    isQueue: isNotYetServedQueue,
    isRecordedDn: (dn: string) => directory.byDn(dn)?.recording === true,
    byDn: directory.byDn,
    dnOfDevice: (deviceId: string) => directory.byDeviceId(deviceId)?.phoneNumber ?? undefined,
    chatUser,
    nicknameOf: (userId: string) => chatUser(userId)?.nickname,
  };
};
