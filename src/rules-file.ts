/** Reads a compliance rules file (YAML or JSON) for `--compliance FILE`; the domain judges it. */
import { readFileSync } from 'node:fs';
import { extname } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { parseRules, RulesError, type ComplianceRule } from './domain/compliance/rules.js';

export const loadRulesFile = (path: string): ComplianceRule[] => {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new RulesError(`compliance rules file ${path}: cannot be read (${(error as NodeJS.ErrnoException).code ?? String(error)})`);
  }
  let doc: unknown;
  try {
    doc = extname(path).toLowerCase() === '.json' ? JSON.parse(text) : parseYaml(text);
  } catch (error) {
    throw new RulesError(`compliance rules file ${path}: cannot be parsed: ${(error as Error).message.split('\n')[0]}`);
  }
  return parseRules(doc, `compliance rules file ${path}`);
};
