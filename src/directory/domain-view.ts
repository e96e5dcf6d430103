/** The directory as the domain and the engine need it: DNs, devices, queues, and who can take chats. */
import type { Directory } from './directory.js';

export const domainDirectoryOf = (directory: Directory) => {
  const chatUser = (userId: string) => {
    const user = directory.byId(userId);
    const agent = user && user.features.includes('api-multimedia') && (user.roles.includes('ROLE_AGENT') || user.roles.includes('ROLE_SUPERVISOR'));
    return agent ? { id: user.id, nickname: user.nickname } : undefined;
  };
  return {
    isKnownDn: directory.isKnownDn,
    dnCount: directory.dnCount,
    isRecordedDn: (dn: string) => directory.byDn(dn)?.recording === true,
    isQueue: (ref: string) => directory.queueOf(ref) !== undefined,
    queueOf: directory.queueOf,
    routingQueue: directory.queueOf,
    /** Every queue's member, with what routing needs: user name and DN. */
    queueMember: (userId: string) => {
      const user = directory.byId(userId);
      return user?.phoneNumber ? { userId, userName: user.userName, dn: user.phoneNumber } : undefined;
    },
    byDn: directory.byDn,
    dnOfDevice: (deviceId: string) => directory.byDeviceId(deviceId)?.phoneNumber ?? undefined,
    chatUser,
    nicknameOf: (userId: string) => chatUser(userId)?.nickname,
  };
};
