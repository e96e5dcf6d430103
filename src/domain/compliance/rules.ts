/**
 * Compliance rules, from a YAML (or JSON) file given with `--compliance FILE`:
 *
 *   rules:
 *     - name: card-number-in-chat
 *       type: chat-message          # a message an agent sends that matches `pattern` flags that agent
 *       pattern: '\b\d{4}[ -]?\d{4}[ -]?\d{4}[ -]?\d{4}\b'
 *       reason: card number typed in chat
 *     - name: crm-eject
 *       type: attached-data         # setting `key` on a call or chat flags the user its value names
 *       key: ComplianceEject
 *       reason: flagged by the CRM
 *
 * Validated at start: a bad file is refused with the rule and the field named. The file is read
 * by the shell (src/rules-file.ts); this module only judges the parsed document.
 */
import Type, { type Static } from 'typebox';
import { Compile } from 'typebox/compile';

const Name = Type.String({ minLength: 1, maxLength: 128, pattern: '^[A-Za-z0-9._-]+$' });
const ChatMessageRule = Type.Object(
  { name: Name, type: Type.Literal('chat-message'), pattern: Type.String({ minLength: 1, maxLength: 1024 }), flags: Type.Optional(Type.String({ pattern: '^[imsu]*$' })), reason: Type.Optional(Type.String({ maxLength: 1024 })) },
  { additionalProperties: false },
);
const AttachedDataRule = Type.Object(
  { name: Name, type: Type.Literal('attached-data'), key: Type.String({ minLength: 1, maxLength: 256 }), reason: Type.Optional(Type.String({ maxLength: 1024 })) },
  { additionalProperties: false },
);
const RulesFile = Type.Object({ rules: Type.Array(Type.Union([ChatMessageRule, AttachedDataRule])) }, { additionalProperties: false });

export type ComplianceRule =
  | (Static<typeof ChatMessageRule> & { readonly regex: RegExp })
  | Static<typeof AttachedDataRule>;

export class RulesError extends Error {
  override name = 'RulesError';
}

const validator = Compile(RulesFile);

export const parseRules = (doc: unknown, source: string): ComplianceRule[] => {
  if (!validator.Check(doc)) {
    const error = (validator.Errors(doc) as unknown as { instancePath: string; message: string }[])[0];
    const where = error?.instancePath.split('/').filter(Boolean).map((p, i) => (i === 1 ? `[${p}]` : i === 0 ? p : `.${p}`)).join('') || 'document';
    throw new RulesError(`${source}: ${where}: ${error?.message ?? 'is not a valid rules file'}`);
  }
  const seen = new Set<string>();
  return (doc as Static<typeof RulesFile>).rules.map((rule, i) => {
    if (seen.has(rule.name)) throw new RulesError(`${source}: rules[${i}].name: '${rule.name}' is used twice`);
    seen.add(rule.name);
    if (rule.type !== 'chat-message') return rule;
    try {
      return { ...rule, regex: new RegExp(rule.pattern, rule.flags ?? '') };
    } catch (error) {
      throw new RulesError(`${source}: rules[${i}] (${rule.name}).pattern: ${(error as Error).message}`);
    }
  });
};
