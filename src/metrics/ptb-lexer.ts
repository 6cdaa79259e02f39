/**
 * The PTB lexer's scanning loop: at each position the longest match over the rules of
 * ptb-rules.ts (counting trailing context, ties to the earlier rule), as the JFlex scanner
 * does, with a fast path for plain words; characters no rule matches are deleted.
 *
 *   lexLines('A dog (brown).\nIt can\'t.');
 *   // [['A', 'dog', '-LRB-', 'brown', '-RRB-', '.'], ['It', 'ca', "n't", '.']]
 */
import { NL_TOKEN, type Outcome, RULES } from './ptb-rules';

/** Longest match at `pos` over all rules (ties to the earlier rule); applies its action. */
function lexAt(text: string, pos: number): Outcome {
  let bestRule = -1;
  let bestTotal = 0;
  let bestToken = '';
  for (let r = 0; r < RULES.length; r++) {
    for (const re of RULES[r].patterns) {
      re.lastIndex = pos;
      const m = re.exec(text);
      if (m !== null && m[0].length > bestTotal) {
        bestTotal = m[0].length;
        bestRule = r;
        bestToken = m[1];
      }
    }
  }
  if (bestRule < 0) {
    // untokenizable character: the lexer deletes it (its default, "firstDelete")
    return { token: null, consumed: 1 };
  }
  return RULES[bestRule].action(bestToken);
}

/** Words the fast path must leave to the full lexer (they are split). */
const SPLIT_WORDS = new Set(['cannot', 'gonna', 'gotta', 'lemme', 'gimme', 'wanna']);

/** The lexer's SPACE class: [ \t\u00A0\u2000-\u200A\u3000]. */
function isSpace(c: number): boolean {
  return c === 32 || c === 9 || c === 0xa0 || (c >= 0x2000 && c <= 0x200a) || c === 0x3000;
}

function isAsciiLetter(c: number): boolean {
  return (c >= 65 && c <= 90) || (c >= 97 && c <= 122);
}

/**
 * Runs the lexer over `text`, returning the tokens of each line (lines end at the
 * lexer's newlines). A fast path handles the common case exactly: a run of ASCII letters
 * followed by a space, a newline or the end is a token on its own under every rule.
 */
export function lexLines(text: string): string[][] {
  const lines: string[][] = [[]];
  let pos = 0;
  const n = text.length;
  while (pos < n) {
    const c = text.charCodeAt(pos);
    if (c === 32) {
      // the lexer's SPACES rule: the whole run of spaces, tabs, no-break spaces, ...
      pos++;
      while (pos < n && isSpace(text.charCodeAt(pos))) pos++;
      continue;
    }
    if (c === 10) {
      lines.push([]);
      pos++;
      continue;
    }
    if (isAsciiLetter(c)) {
      let end = pos + 1;
      while (end < n && isAsciiLetter(text.charCodeAt(end))) end++;
      const next = end < n ? text.charCodeAt(end) : 32;
      if (next === 32 || next === 10) {
        const word = text.slice(pos, end);
        if (end - pos < 5 || end - pos > 6 || !SPLIT_WORDS.has(word.toLowerCase())) {
          lines[lines.length - 1].push(word);
          pos = end;
          continue;
        }
      }
    }
    const out = lexAt(text, pos);
    pos += out.consumed;
    if (out.token === NL_TOKEN) lines.push([]);
    else if (out.token !== null) lines[lines.length - 1].push(out.token);
  }
  return lines;
}
