import { matchPhoneNumbers, type PhoneNumber, type PhoneNumberMatch } from '@sbc/db';
import type { ClassifyDeps } from './types.js';

/** The phone_numbers rows of some carriers that route a DID, split as jambonz uses them. */
export interface DidMatches {
  /** Rows whose number is the DID itself. */
  exact: PhoneNumberMatch[];
  /** Matching `prefix*` wildcards and regular expressions, longest number first (jambonz's order). */
  patterns: PhoneNumberMatch[];
}

/**
 * The numbers of `voipCarrierSids` (and of `accountSid`, when given) that route `did`. No SQL is
 * built from the DID, and a row that is not a valid regular expression is ignored (sbc-inbound #201).
 */
export async function matchDid(
  deps: Pick<ClassifyDeps, 'db' | 'logger'>,
  did: string,
  voipCarrierSids: readonly string[],
  accountSid?: string,
): Promise<DidMatches> {
  const matches = await matchPhoneNumbers(
    deps.db,
    did,
    { voipCarrierSids, ...(accountSid !== undefined ? { accountSid } : {}) },
    { onInvalidPattern: (row) => warnInvalidPattern(deps, row) },
  );
  const exact = matches.filter((m) => m.match === 'exact');
  // jambonz tries every non-digit row by length, wildcards and regexes alike (stable sort keeps
  // @sbc/db's order, wildcards first, on a tie).
  const patterns = matches
    .filter((m) => m.match !== 'exact')
    .sort((a, b) => b.number.length - a.number.length);
  return { exact, patterns };
}

/** Rows already reported at warn: a bad row is a warning once per process, then a debug line per call. */
const reported = new Set<string>();

function warnInvalidPattern(deps: Pick<ClassifyDeps, 'logger'>, row: PhoneNumber): void {
  const level = reported.has(row.phone_number_sid) ? 'debug' : 'warn';
  reported.add(row.phone_number_sid);
  deps.logger?.[level](
    { phoneNumberSid: row.phone_number_sid, number: row.number },
    'phone_numbers row is neither digits, a prefix* wildcard nor a valid regular expression: skipped',
  );
}

/** The row that routes the DID on one carrier: an exact number, else the best pattern. */
export function bestNumber(matches: DidMatches): PhoneNumberMatch | undefined {
  return matches.exact[0] ?? matches.patterns[0];
}
