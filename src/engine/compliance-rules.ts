/**
 * Applies compliance rules to what the engine commits: one of the event sinks, it reads the
 * changed call or chat from the event's committed snapshot and raises a flag when a rule matches.
 * Each (interaction, message or key value) is judged once, however many recipients were notified.
 */
import type { ComplianceRule } from '../domain/compliance/rules.js';
import type { Compliance } from './compliance.js';
import type { DomainEvent, EventSink } from './ports.js';

export const createRulesSink = (rules: readonly ComplianceRule[], compliance: () => Compliance, onError: (error: unknown) => void): EventSink => {
  const judged = new Set<string>();
  const once = (key: string) => (judged.has(key) ? false : (judged.add(key), true));
  const messageRules = rules.filter((r) => r.type === 'chat-message');
  const dataRules = rules.filter((r) => r.type === 'attached-data');

  const checkUserData = (interaction: string, userData: Readonly<Record<string, string | number>>) => {
    for (const rule of dataRules) {
      const value = userData[rule.key];
      if (value === undefined || !once(`${interaction}|${rule.name}|${value}`)) continue;
      compliance().raise({ user: String(value), reason: rule.reason ?? `attached data ${rule.key}`, source: `rule:${rule.name}` }, `rule:${rule.name}`).catch(onError);
    }
  };

  const inspect = (event: DomainEvent) => {
    if (event.kind === 'call' && event.notificationType === 'AttachedDataChanged' && dataRules.length > 0) {
      checkUserData(event.call.id, event.call.userData);
    }
    if (event.kind !== 'chat') return;
    const chat = event.chat;
    if (event.notificationType === 'PropertiesUpdated' && dataRules.length > 0) checkUserData(chat.id, chat.userData);
    if (event.notificationType !== 'NewMessages') return;
    for (const index of event.messageIndexes ?? []) {
      const message = chat.messages[index - 1];
      const agent = message && chat.agents.find((a) => a.participantId === message.from);
      // Only agents can be flagged: a customer is not a directory user.
      if (!message?.text || !agent || !once(`${chat.id}|${index}`)) continue;
      for (const rule of messageRules)
        if (rule.regex.test(message.text)) {
          compliance().raise({ user: agent.userId, reason: rule.reason ?? `message matched ${rule.name}`, source: `rule:${rule.name}` }, `rule:${rule.name}`).catch(onError);
          break;
        }
    }
  };

  return {
    publish(events) {
      if (rules.length > 0) for (const event of events) inspect(event);
    },
  };
};
