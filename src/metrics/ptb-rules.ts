/**
 * The PTB lexer's rules, in PTBLexer.flex's order: each is one or more regular expressions
 * (the rule's top-level alternatives, built from the macros of ptb-patterns.ts) with an
 * optional trailing context, and an action that turns the match into zero or one token and
 * says how much of it is consumed. ptb-lexer.ts tries them all at each position.
 *
 *   const rule = RULES[2];                 // "cannot": token "can", 3 characters read again
 *   rule.action('cannot');                 // { token: 'can', consumed: 3 }
 *   NL_TOKEN                               // what the newline rule emits
 */
import { ABBREV1, ABBREV3, ABBREV4, ACRO, ACRONYM_NEXT, alts, APOS, APOSETC, D, FILENAME, HTHING, INSENTP, jf, L_RAW, LETTER, MISCSYMBOL, NEWLINE, NUMBER, QUOTE_CHARS, RAW_DIGIT, REDAUX, SENTEND, SGML, SPACE, SPACENL, SPAMP, SREDAUX, SWORD, THING, THING3, THINGA, URL_END, WORD } from './ptb-patterns';

// ---------------------------------------------------------------------------------------
// Rules, in the lexer's order. Each has one or more patterns (its top-level alternatives)
// and an optional trailing context; the action turns the match into zero or one token.

/** What a rule does with its match: the token to emit (null: none) and how much to keep. */
export interface Outcome {
  token: string | null;
  /** How many characters of the match are consumed (the rest is read again). */
  consumed: number;
}

export type Action = (text: string) => Outcome;

export interface Rule {
  patterns: RegExp[];
  action: Action;
}

export const NL_TOKEN = '\n';

const emit: Action = (text) => ({ token: text, consumed: text.length });
const skip: Action = (text) => ({ token: null, consumed: text.length });
const pushback =
  (n: number): Action =>
  (text) => ({ token: text.slice(0, text.length - n), consumed: text.length - n });
/** The token keeps its final character, which is also read again (ABBREV1's period). */
const emitAndReread: Action = (text) => ({ token: text, consumed: text.length - 1 });
const replaceWith =
  (replacement: string): Action =>
  (text) => ({ token: replacement, consumed: text.length });
const soft: Action = (text) => ({ token: removeSoftHyphens(text), consumed: text.length });
const spaceToNbsp: Action = (text) => ({ token: text.replace(/ /g, '\u00A0'), consumed: text.length });
const parens = (s: string): string => s.replace(/\(/g, '-LRB-').replace(/\)/g, '-RRB-');
const quotes =
  (probablyLeft: boolean): Action =>
  (text) => ({ token: latexQuotes(text, probablyLeft), consumed: text.length });

function removeSoftHyphens(s: string): string {
  if (s.indexOf('\u00AD') < 0) return s;
  const out = s.replace(/\u00AD/g, '');
  return out.length === 0 ? '-' : out;
}

function latexQuotes(s: string, probablyLeft: boolean): string {
  let out = probablyLeft
    ? s.replace(/&apos;|'/g, '`').replace(/"|&quot;/g, '``')
    : s.replace(/&apos;|'/g, "'").replace(/"|&quot;/g, "''");
  out = out
    .replace(/[\u0091\u2018\u201B\u2039]/g, '`')
    .replace(/[\u0092\u2019\u203A]/g, "'")
    .replace(/[\u0093\u201C\u00AB]/g, '``')
    .replace(/[\u0094\u201D\u00BB]/g, "''");
  return out;
}

function normalizeCurrency(s: string): string {
  return s.replace(/\u00A2/g, 'cents').replace(/\u00A3/g, '#').replace(/[\u0080\u00A4\u20A0\u20AC]/g, '$');
}

const FRACTIONS: Record<string, string> = {
  '\u00BC': '1/4', '\u00BD': '1/2', '\u00BE': '3/4', '\u2153': '1/3', '\u2154': '2/3',
};

/**
 * A rule: `main` is the token part; `trail` the context that must follow (it counts for
 * the longest match but is not consumed). Group 1 of each compiled pattern is the token.
 */
function rule(main: string | string[], action: Action, trail?: string): Rule {
  const mains = Array.isArray(main) ? main : [main];
  return {
    patterns: mains.map((m) => new RegExp(`(${m})${trail ? `(?:${trail})` : ''}`, 'y')),
    action,
  };
}

/** The ACRONYM rule's action: "I." gives "I" and "."; "U.S." gives "U.S." and "." again. */
const acronymAction: Action = (text) => {
  const t = text.replace(/[ \t\n\u000B\u000C\r\u0085]+$/, '');
  return t.length === 2 ? { token: t.slice(0, 1), consumed: 1 } : emitAndReread(t);
};

export const RULES: Rule[] = [
  rule(jf('c[+][+]'), emit),
  rule(jf('(c|f)#'), emit),
  rule(jf('cannot'), pushback(3)),
  rule(jf("'twas"), pushback(3)),
  rule(jf("'tis"), pushback(2)),
  rule(['gonna', 'gotta', 'lemme', 'gimme', 'wanna'].map(jf), pushback(2)),
  rule(SGML, spaceToNbsp),
  rule([jf('&(MD|mdash|ndash);'), '[\\u0096\\u0097\\u2013\\u2014\\u2015]'], replaceWith('--')),
  rule(SPAMP, replaceWith('&')),
  rule(jf('&(HT|TL|UR|LR|QC|QL|QR|odq|cdq|#[0-9]+);'), emit),
  rule(WORD, soft, REDAUX),
  rule(SWORD, soft, SREDAUX),
  rule(WORD, soft),
  rule(
    [
      `${APOS}${jf('n')}${APOS}?`, `[lLdDjJ]${APOS}`, `${jf('Dunkin')}${APOS}`,
      `${jf('somethin')}${APOS}`, `${jf('ol')}${APOS}`, `${APOS}${jf('em')}`,
      `[A-HJ-XZn]${APOSETC}${L_RAW}{2}${L_RAW}*`, `${APOS}[2-9]0${jf('s')}`, `${APOS}${jf('till?')}`,
      `${L_RAW}${L_RAW}*[aeiouyAEIOUY]${APOSETC}[aeiouA-Z]${L_RAW}*`, `${APOS}${jf('cause')}`,
      `${jf("cont'd")}\\.?`, jf("'twas"), jf("nor'easter"), jf("c'mon"), jf("e'er"), jf("s'mores"),
      jf("ev'ry"), jf("li'l"), jf("nat'l"), `${jf('O')}${APOSETC}${jf('o')}`,
    ],
    emit,
  ),
  rule(`${jf('y')}${APOS}`, emit, L_RAW),
  rule(`${jf('http')}${jf('s')}?:\\/\\/[^ \\t\\n\\f\\r"<>|(){}]+${URL_END}`, emit),
  rule(
    [
      `${jf('www')}\\.(?:[^ \\t\\n\\f\\r"<>|.!?(){},]+\\.)+[a-zA-Z]{2,4}(?:\\/[^ \\t\\n\\f\\r"<>|()]+${URL_END})?`,
      `(?:[^ \\t\\n\\f\\r"\`'<>|.!?(){},-_$]+\\.)+${alts(['com', 'net', 'org', 'edu'])}(?:\\/[^ \\t\\n\\f\\r"<>|()]+${URL_END})?`,
    ],
    emit,
  ),
  rule(
    `(?:${jf('&lt;')}|<)?[a-zA-Z0-9][^ \\t\\n\\f\\r"<>|()\\u00A0{}]*@(?:[^ \\t\\n\\f\\r"<>|(){}.\\u00A0]+\\.)*[^ \\t\\n\\f\\r"<>|(){}.\\u00A0]+(?:${jf('&gt;')}|>)?`,
    emit,
  ),
  rule(['@[a-zA-Z_][a-zA-Z_0-9]*', `#${LETTER}+`], emit),
  rule(REDAUX, quotes(false), '[^A-Za-z]'),
  rule(SREDAUX, quotes(false), '[^A-Za-z]'),
  rule(`${D}{1,2}[\\-\\/]${D}{1,2}[\\-\\/]${D}{2,4}`, emit),
  rule(NUMBER, soft),
  rule('[\\u207A\\u207B\\u208A\\u208B]?(?:[\\u2070\\u00B9\\u00B2\\u00B3\\u2074-\\u2079]+|[\\u2080-\\u2089]+)', emit),
  rule(`(?:${D}{1,4}[- \\u00A0])?${D}{1,4}(?:\\\\?\\/|\\u2044)${D}{1,4}`, spaceToNbsp),
  rule('[\\u00BC\\u00BD\\u00BE\\u2153-\\u215E]', (t) => ({ token: FRACTIONS[t] ?? t, consumed: t.length })),
  rule(
    [
      jf('-(RRB|LRB|RCB|LCB|RSB|LSB)-'), jf('C\\.D\\.s'), jf('pro-'), jf('anti-'),
      `${jf('S')}(?:&|${SPAMP})${jf('P-500')}`, `${jf('S')}(?:&|${SPAMP})${jf('Ls')}`,
      `${jf('Cap')}${APOS}${jf('n')}`, `${jf('c')}${APOS}${jf('est')}`,
    ],
    (t) => ({ token: t.replace(/&amp;/gi, '&'), consumed: t.length }),
  ),
  rule(THING3, emit),
  rule(['[A-Z]*\\$', '#'], emit),
  rule(
    '[\\u00A2\\u00A3\\u00A4\\u00A5\\u0080\\u20A0\\u20AC\\u060B\\u0E3F\\u20A4\\uFFE0\\uFFE1\\uFFE5\\uFFE6]',
    (t) => ({ token: normalizeCurrency(t), consumed: t.length }),
  ),
  rule(`${ACRO}\\.`, acronymAction, `${SPACENL}+(?:${ACRONYM_NEXT}|${SGML})${SPACENL}`),
  rule(ABBREV3, emit, `${SPACENL}?[${RAW_DIGIT}]`),
  rule(jf('(pt[eyEY]|co)\\.'), emit, `${SPACE}${alts(['ltd', 'lim'])}`),
  rule(ABBREV1, emitAndReread, SENTEND),
  rule(ABBREV1, emit, '[^][^]'),
  rule(ABBREV1, emitAndReread),
  rule(`${ABBREV4}\\.`, emit),
  rule(ABBREV4, emit, SPACE),
  rule(ACRO, emit, SPACENL),
  rule(`${APOS}[0-9][0-9]`, emit, SPACENL),
  rule(FILENAME, emit, `${SPACENL}|[.?!,]`),
  rule(`${WORD}\\.`, soft, INSENTP),
  rule(
    [
      '(?:\\([0-9]{2,3}\\)[ \\u00A0]?|(?:\\+\\+?)?(?:[0-9]{2,4}[\\- \\u00A0])?[0-9]{2,4}[\\- \\u00A0])[0-9]{3,4}[\\- \\u00A0]?[0-9]{3,5}',
      '(?:(?:\\+\\+?)?[0-9]{2,4}\\.)?[0-9]{2,4}\\.[0-9]{3,4}\\.[0-9]{3,5}',
    ],
    (t) => ({ token: parens(t.replace(/ /g, '\u00A0')), consumed: t.length }),
  ),
  rule(`"|${jf('&quot;')}`, quotes(true), '[A-Za-z0-9$]'),
  rule(`"|${jf('&quot;')}`, quotes(false)),
  rule('\\x7f', skip),
  rule(`<|${jf('&lt;')}`, replaceWith('<')),
  rule(`>|${jf('&gt;')}`, replaceWith('>')),
  rule("[<>]?[:;=][\\-o\\*']?[\\(\\)DPdpO\\\\{@\\|\\[\\]]", (t) => ({ token: parens(t), consumed: t.length }), '[^A-Za-z0-9]'),
  rule(
    [
      `[\\^x=~<>]\\.${jf('\\[\\^x=~<>\\]')}`, "[\\-\\^x=~<>']_[\\-\\^x=~<>']",
      "\\([\\-\\^x=~<>'][_.]?[\\-\\^x=~<>']\\)", "\\([\\^x=~<>']-[\\^x=~<>'`]\\)",
    ],
    (t) => ({ token: parens(t), consumed: t.length }),
  ),
  rule('\\{', replaceWith('-LCB-')),
  rule('\\}', replaceWith('-RCB-')),
  rule('\\[', replaceWith('-LSB-')),
  rule('\\]', replaceWith('-RSB-')),
  rule('\\(', replaceWith('-LRB-')),
  rule('\\)', replaceWith('-RRB-')),
  rule('\\-+', (t) => ({ token: t.length >= 3 && t.length <= 4 ? '--' : t, consumed: t.length })),
  rule(['\\.{3,5}', '(?:\\.[ \\u00A0]){2,4}\\.', '[\\u0085\\u2026]'], replaceWith('...')),
  rule(['@+', '#+', '_+'], emit),
  rule(['\\*+', '(?:\\\\\\*){1,3}'], emit),
  rule(INSENTP, emit),
  rule('[?!]+', emit),
  rule('[.\\u00A1\\u00BF\\u037E\\u0589\\u061F\\u06D4\\u0700-\\u0702\\u07FA\\u3002]', emit),
  rule('=', emit),
  rule('\\/', emit),
  rule(`${HTHING}\\.`, soft, INSENTP),
  rule(HTHING, soft),
  rule(`${THING}\\.`, emit, INSENTP),
  rule(THING, emit),
  rule(`${THINGA}\\.`, (t) => ({ token: t.replace(/&amp;/gi, '&'), consumed: t.length }), INSENTP),
  rule(THINGA, (t) => ({ token: t.replace(/&amp;/gi, '&'), consumed: t.length })),
  rule("'", quotes(true), '[A-Za-z][^ \\t\\n\\r\\u00A0]'),
  rule(REDAUX, quotes(false)),
  rule(SREDAUX, quotes(false)),
  rule([APOS, "''", `${QUOTE_CHARS}{1,2}`], quotes(false)),
  rule(['<<', '>>'], emit),
  rule(MISCSYMBOL, emit),
  rule(`\\0|${SPACE}+|[\\u200B\\u200E\\u200F\\uFEFF]`, skip),
  rule(NEWLINE, replaceWith(NL_TOKEN)),
  rule(jf('&nbsp;'), skip),
];
