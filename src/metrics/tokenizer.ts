/**
 * Caption normalisation as the COCO caption toolkit (pycocoevalcap) does it.
 *
 * The toolkit joins all captions of one side (references, or hypotheses) with newlines,
 * runs the Stanford PTBTokenizer of CoreNLP 3.4.1 over them
 * (`java -cp stanford-corenlp-3.4.1.jar edu.stanford.nlp.process.PTBTokenizer
 * -preserveLines -lowerCase`), splits the output back into lines, and drops the tokens
 * `'' ' `` ` -LRB- -RRB- -LCB- -RCB- . ? ! , : - -- ... ;`.
 *
 * This module re-implements that lexer: its rules are written as regular expressions,
 * tried at each position, and the longest match wins (counting trailing context, ties to
 * the earlier rule), as in the JFlex scanner. What the toolkit does, and we do too:
 * - Clitics are split: "can't" -> `ca n't`, "cannot" -> `can not`, "it's" -> `it 's`,
 *   "they're" -> `they 're`, "gonna" -> `gon na`.
 * - Punctuation becomes tokens and the listed ones are dropped: "a dog, running." ->
 *   `a dog running`; "?!" and "!!" are single tokens the list does not name, so they stay.
 * - Lower-casing happens after tokenisation, so "(" -> `-LRB-` -> `-lrb-`, which the
 *   toolkit's upper-case list no longer matches: parentheses, brackets and braces stay as
 *   `-lrb- -rrb- -lsb- -rsb- -lcb- -rcb-` tokens. "A dog (brown)" -> `a dog -lrb- brown -rrb-`.
 * - Quotes become `` and '' (dropped): `say "hi"` -> `say hi`.
 * - Hyphenated words stay whole ("well-known", "t-shirt"), so do numbers with commas or
 *   points ("1,000", "3.5"), times ("3:30"), dates ("1/2/2015"), fractions ("1/2", and
 *   "2 1/2" as one token with a non-breaking space), URLs and e-mail addresses.
 * - Known abbreviations keep their period: "st.", "mr.", "dr.", "u.s.", "p.m.", "etc."
 *   ("main st." -> `main st.`); "etc." before an upper-case word is `etc.` plus a dropped
 *   `.`; "&amp;" -> `&`; "½" -> `1/2`; "£" -> `#`; "…" and ". . ." -> `...` (dropped).
 * - Characters it cannot tokenise (emoji, most control characters) are deleted.
 *
 * Known divergences from the Java tokenizer (deliberate or unavoidable):
 * - Line breaks other than "\n" inside a caption ("\r", U+2028, U+2029, U+000B, U+000C):
 *   the toolkit only replaces "\n" with a space, so Java starts a new line there and every
 *   later caption is paired with the wrong image. We replace them with spaces.
 * - An SGML tag whose quoted attribute value spans two captions (`<a b='x` then `y'>`):
 *   Java makes one token across the line break (misaligning lines again); we never
 *   match across captions.
 * - Character classes ([:letter:], [:digit:], [:uppercase:]) come from the Unicode
 *   tables of this JavaScript engine, not those of the Java 7 that generated the lexer;
 *   letters assigned in later Unicode versions may tokenise differently. As in the
 *   lexer, code points above U+FFFF are two untokenisable halves (deleted).
 * - JFlex finds the longest match of each rule with a DFA; a regular expression engine
 *   takes the first alternative that matches. Rules are split at their top-level
 *   alternatives so that the longest wins, but inside a few nested alternations
 *   (phone numbers like "(650) 723-4000", file names, URLs with odd characters) the match
 *   can be shorter than Java's.
 * - Lower-casing uses JavaScript's locale-independent `toLowerCase`, Java's uses
 *   `Locale.ENGLISH`; they differ on no character we know of in caption text.
 * Checked against the real CoreNLP 3.4.1 PTBTokenizer (built from its sources) through the
 * toolkit's own wrapper: identical output on 1,000 COCO-style captions, 3,000 random
 * mixes of tricky fragments ("u.s.", "etc.", "n't", "'80s", "1/2", URLs, ...) and 6,000
 * random strings of letters, digits, punctuation and Unicode quotes/dashes. The cases in
 * test/metrics/tokenizer.test.ts are taken from that comparison.
 */

// ---------------------------------------------------------------------------------------
// Character classes, built once from the engine's Unicode tables, restricted to UTF-16
// code units (the lexer reads chars, not code points).

function bmpClass(test: RegExp, extra = ''): string {
  let out = '';
  let start = -1;
  for (let c = 0; c <= 0x10000; c++) {
    const inside =
      c < 0x10000 && (c < 0xd800 || c > 0xdfff) && test.test(String.fromCharCode(c));
    if (inside && start < 0) start = c;
    if (!inside && start >= 0) {
      out += c - 1 === start ? hex(start) : `${hex(start)}-${hex(c - 1)}`;
      start = -1;
    }
  }
  return out + extra;
}

function hex(c: number): string {
  return `\\u${c.toString(16).padStart(4, '0')}`;
}

/**
 * A JFlex fragment in the %caseless scanner: letters outside [...] match either case,
 * character classes stay as written. Backslash escapes are copied.
 */
function jf(src: string): string {
  let out = '';
  for (let i = 0; i < src.length; i++) {
    const ch = src[i];
    if (ch === '\\') {
      out += src.slice(i, i + 2);
      i++;
    } else if (ch === '[') {
      let j = i + 1;
      while (j < src.length && src[j] !== ']') j += src[j] === '\\' ? 2 : 1;
      out += src.slice(i, j + 1);
      i = j;
    } else if (ch.toLowerCase() !== ch.toUpperCase()) {
      out += `[${ch.toLowerCase()}${ch.toUpperCase()}]`;
    } else {
      out += ch;
    }
  }
  return out;
}

/** Alternatives, longest first so that the first one to match is the longest. */
function alts(words: string[]): string {
  return `(?:${[...words].sort((a, b) => b.length - a.length).map(jf).join('|')})`;
}

const RAW_LETTER = bmpClass(/\p{L}/u);
const RAW_DIGIT = bmpClass(/\p{Nd}/u, '\\u07c0-\\u07c9');
const UPPER = bmpClass(/\p{Lu}/u);
const EXTRA_LETTER =
  '\\u00AD\\u0237-\\u024F\\u02C2-\\u02C5\\u02D2-\\u02DF\\u02E5-\\u02FF\\u0300-\\u036F\\u0370-\\u037D\\u0384\\u0385\\u03CF\\u03F6\\u03FC-\\u03FF\\u0483-\\u0487\\u04CF\\u04F6-\\u04FF\\u0510-\\u0525\\u055A-\\u055F\\u0591-\\u05BD\\u05BF\\u05C1\\u05C2\\u05C4\\u05C5\\u05C7\\u0615-\\u061A\\u063B-\\u063F\\u064B-\\u065E\\u0670\\u06D6-\\u06EF\\u06FA-\\u06FF\\u070F\\u0711\\u0730-\\u074F\\u0750-\\u077F\\u07A6-\\u07B1\\u07CA-\\u07F5\\u07FA\\u0900-\\u0903\\u093C\\u093E-\\u094E\\u0951-\\u0955\\u0962-\\u0963\\u0981-\\u0983\\u09BC-\\u09C4\\u09C7\\u09C8\\u09CB-\\u09CD\\u09D7\\u09E2\\u09E3\\u0A01-\\u0A03\\u0A3C\\u0A3E-\\u0A4F\\u0A81-\\u0A83\\u0ABC-\\u0ACF\\u0B82\\u0BBE-\\u0BC2\\u0BC6-\\u0BC8\\u0BCA-\\u0BCD\\u0C01-\\u0C03\\u0C3E-\\u0C56\\u0D3E-\\u0D44\\u0D46-\\u0D48\\u0E30-\\u0E3A\\u0E47-\\u0E4E\\u0EB1-\\u0EBC\\u0EC8-\\u0ECD';

// ---------------------------------------------------------------------------------------
// The lexer's macros (names as in PTBLexer.flex), as regular-expression sources.

const D = `[${RAW_DIGIT}]`;
const LD_RAW = `[${RAW_LETTER}${RAW_DIGIT}]`; // [:letter:]|[:digit:]
const L_RAW = `[${RAW_LETTER}]`;
const SPLET = `&[aeiouAEIOU]${alts(['acute', 'grave', 'uml'])};`;
const LETTER = `(?:[${RAW_LETTER}${EXTRA_LETTER}]|${SPLET})`;
const LETTER_OR_DIGIT = `(?:[${RAW_LETTER}${EXTRA_LETTER}${RAW_DIGIT}]|${SPLET})`;
const WORD = `${LETTER}${LETTER_OR_DIGIT}*(?:[.!?]${LETTER}${LETTER_OR_DIGIT}*)*`;
const SGML =
  `<(?:[!?][A-Za-z\\-][^>\\r\\n]*|[A-Za-z][A-Za-z0-9_:.\\-]*(?:[ ]+(?:[A-Za-z][A-Za-z0-9_:.\\-]*[ ]*=[ ]*(?:'[^'\\n]*'|"[^"\\n]*")|[A-Za-z][A-Za-z0-9_:.\\-]*))*[ ]*\\/?|\\/[A-Za-z][A-Za-z0-9_:.\\-]*)[ ]*>`;
const SPACE = '[ \\t\\u00A0\\u2000-\\u200A\\u3000]';
const NEWLINE = '(?:\\r?\\n|[\\r\\u2028\\u2029\\u000B\\u000C\\u0085])';
const SPACENL = `(?:${SPACE}|${NEWLINE})`;
const SENTEND = `${SPACENL}(?:${SPACENL}|[${UPPER}]|${SGML})`;
const NUMBER = `[\\-+]?(?:${D}*(?:[.:,\\u00AD\\u066B\\u066C]${D}+)+|${D}+)`;
const APOS = `(?:['\\u0092\\u2019]|${jf('&apos;')})`;
const APOSETC = `(?:${APOS}|[\`\\u0091\\u2018\\u201B])`;
const REDAUX = `${APOS}(?:[msdMSD]|${alts(['re', 've', 'll'])})`;
const SWORD = '[A-Za-z\\u00AD]*[A-MO-Za-mo-z]\\u00AD*';
const SREDAUX = `${jf('n')}${APOSETC}${jf('t')}`;
const HYPHEN = '[\\-_\\u058A\\u2010\\u2011]';
const THING_PART = `(?:[dDoOlL]${APOSETC}${LD_RAW})?${LD_RAW}+`;
const THING = `${THING_PART}(?:${HYPHEN}${THING_PART})*`;
const SPAMP = jf('&amp;');
const THINGA = `[A-Z]+(?:(?:[+&]|${SPAMP})[A-Z]+)+`;
const THING3 = '[A-Za-z0-9]+(?:-[A-Za-z]+){0,2}(?:\\\\?\\/[A-Za-z0-9]+(?:-[A-Za-z]+){0,2}){1,2}';
const ACRO_SPECIAL = `${jf('(Canada|Sino|Korean|EU|Japan|non)-U\\.S')}|${jf('U\\.S\\.-(U\\.K|U\\.S\\.S\\.R)')}`;
const ACRO = `(?:[A-Za-z](?:\\.[A-Za-z])*|${ACRO_SPECIAL})`;
const ACRO2 = `(?:[A-Za-z](?:\\.[A-Za-z])+|${ACRO_SPECIAL})`;
const HTHING = `[A-Za-z0-9][A-Za-z0-9.,\\u00AD]*(?:-(?:${ACRO2}\\.|[A-Za-z0-9\\u00AD]+))+`;
const ABMONTH = ['Jan', 'Feb', 'Mar', 'Apr', 'Jun', 'Jul', 'Aug', 'Sep', 'Sept', 'Oct', 'Nov', 'Dec'];
const ABDAYS = ['Mon', 'Tue', 'Tues', 'Wed', 'Thu', 'Thurs', 'Fri'];
const ABSTATE = ['Ala', 'Ariz', '[A]z', '[A]rk', 'Calif', 'Colo', 'Conn', 'Ct', 'Dak', '[D]el',
  'Fla', 'Ga', '[I]ll', 'Ind', 'Kans?', 'Ky', '[L]a', '[M]ass', 'Md', 'Mich', 'Minn', '[M]iss',
  'Mo', 'Mont', 'Neb', 'Nev', 'Okla', '[O]re', '[P]a', 'Penn', 'Tenn', '[T]ex', 'Va', 'Vt',
  '[W]ash', 'Wisc?', 'Wyo'];
const ABCOMP = ['Inc', 'Cos?', 'Corp', 'Pp?t[ye]s?', 'Ltd', 'Plc', 'Rt', 'Bancorp', 'Bhd', 'Assn',
  'Univ', 'Intl', 'Sys'];
const ABNUM = ['tel', 'est', 'ext', 'sq'];
const ABPTIT = ['Jr', 'Sr', 'Bros', '(Ed|Ph)\\.D', 'Blvd', 'Rd', 'Esq'];
const ABBREV1 = `${alts([...ABMONTH, ...ABDAYS, ...ABSTATE, ...ABCOMP, ...ABNUM, ...ABPTIT,
  'etc', 'al', 'seq', 'Bldg'])}\\.`;
const ABTITLE = ['Mr', 'Mrs', 'Ms', '[M]iss', 'Drs?', 'Profs?', 'Sens?', 'Reps?', 'Attys?', 'Lt',
  'Col', 'Gen', 'Messrs', 'Govs?', 'Adm', 'Rev', 'Maj', 'Sgt', 'Cpl', 'Pvt', 'Capt', 'Ste?', 'Ave',
  'Pres', 'Lieut', 'Hon', 'Brig', 'Co?mdr', 'Pfc', 'Spc', 'Supts?', 'Det', 'Mt', 'Ft', 'Adj', 'Adv',
  'Asst', 'Assoc', 'Ens', 'Insp', 'Mlle', 'Mme', 'Msgr', 'Sfc'];
const ABCOMP2 = ['Invt', 'Elec', 'Natl', 'M[ft]g', 'Dept'];
const ABBREV4 = `(?:${ACRO}|${alts([...ABTITLE, 'vs', 'Alex', 'Wm', 'Jos', 'Cie', 'a\\.k\\.a', 'cf',
  'TREAS', 'Ph', ...ABCOMP2])})`;
const ABBREV3 = `${alts(['ca', 'figs?', 'prop', 'nos?', 'art', 'bldg', 'pp', 'op'])}\\.`;
const ACRONYM_NEXT = alts(['[A]bout', '[A]ccording', '[A]dditionally', '[A]fter', '[A]n', '[A]',
  '[A]s', '[A]t', '[B]ut', '[E]arlier', '[H]e', '[H]er', '[H]ere', '[H]owever', '[I]f', '[I]n',
  '[I]t', '[L]ast', '[M]any', '[M]ore', '[M]r\\.', '[M]s\\.', '[N]ow', '[O]nce', '[O]ne', '[O]ther',
  '[O]ur', '[S]he', '[S]ince', '[S]o', '[S]ome', '[S]uch', '[T]hat', '[T]he', '[T]heir', '[T]hen',
  '[T]here', '[T]hese', '[T]hey', '[T]his', '[W]e', '[W]hen', '[W]hile', '[W]hat', '[Y]et',
  '[Y]ou']);
const FILENAME_EXT = alts(['bat', 'bmp', 'c', 'class', 'cgi', 'cpp', 'dll', 'doc', 'docx', 'exe',
  'gif', 'gz', 'h', 'htm', 'html', 'jar', 'java', 'jpeg', 'jpg', 'mov', 'mp3', 'pdf', 'php', 'pl',
  'png', 'ppt', 'ps', 'py', 'sql', 'tar', 'txt', 'wav', 'x', 'xml', 'zip']);
const FILENAME = `${LETTER_OR_DIGIT}+(?:[.]${LETTER_OR_DIGIT}+)*(?:[.]${FILENAME_EXT})`;
const INSENTP = '[,;:\\u3001]';
const QUOTE_CHARS =
  '[`\\u2018\\u2019\\u201A\\u201B\\u201C\\u201D\\u0091\\u0092\\u0093\\u0094\\u201E\\u201F\\u2039\\u203A\\u00AB\\u00BB]';
const MISCSYMBOL =
  '[+%&~\\^|\\\\\\u00A6\\u00A7\\u00A8\\u00A9\\u00AC\\u00AE\\u00AF\\u00B0-\\u00B3\\u00B4-\\u00BA\\u00D7\\u00F7\\u0387\\u05BE\\u05C0\\u05C3\\u05C6\\u05F3\\u05F4\\u0600-\\u0603\\u0606-\\u060A\\u060C\\u0614\\u061B\\u061E\\u066A\\u066D\\u0703-\\u070D\\u07F6\\u07F7\\u07F8\\u0964\\u0965\\u0E4F\\u1FBD\\u2016\\u2017\\u2020-\\u2023\\u2030-\\u2038\\u203B\\u203E-\\u2042\\u2044\\u207A-\\u207F\\u208A-\\u208E\\u2100-\\u214F\\u2190-\\u21FF\\u2200-\\u2BFF\\u3012\\u30FB\\uFF01-\\uFF0F\\uFF1A-\\uFF20\\uFF3B-\\uFF40\\uFF5B-\\uFF65]';
const URL_END = '[^ \\t\\n\\f\\r"<>|.!?(){},\\-]';

// ---------------------------------------------------------------------------------------
// Rules, in the lexer's order. Each has one or more patterns (its top-level alternatives)
// and an optional trailing context; the action turns the match into zero or one token.

/** What a rule does with its match: the token to emit (null: none) and how much to keep. */
interface Outcome {
  token: string | null;
  /** How many characters of the match are consumed (the rest is read again). */
  consumed: number;
}

type Action = (text: string) => Outcome;

interface Rule {
  patterns: RegExp[];
  action: Action;
}

const NL_TOKEN = '\n';

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

const RULES: Rule[] = [
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

// ---------------------------------------------------------------------------------------
// The toolkit's pipeline.

/** Tokens the toolkit drops after tokenising (compared after lower-casing, as it does). */
export const TOOLKIT_PUNCTUATION: ReadonlySet<string> = new Set([
  "''", "'", '``', '`', '-LRB-', '-RRB-', '-LCB-', '-RCB-', '.', '?', '!', ',', ':', '-', '--',
  '...', ';',
]);

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
function lexLines(text: string): string[][] {
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

/** Line breaks the Java lexer knows; inside one caption they become spaces. */
const LINE_BREAKS = /\r\n|[\n\r\u2028\u2029\u000B\u000C]/g;

/**
 * Tokenises a batch of captions as the toolkit does: joined with newlines, PTB-tokenised,
 * lower-cased, punctuation tokens removed, each caption returned as its tokens joined by
 * single spaces (the toolkit's form; "" for a caption with no tokens left). Pass all the
 * captions of one side together, in the toolkit's order: a caption's last period can
 * depend on how the next caption starts (`etc.` before an upper-case word).
 */
export function tokenizeCaptions(captions: readonly string[]): string[] {
  const text = captions.map((c) => c.replace(LINE_BREAKS, ' ')).join('\n');
  const lines = lexLines(text);
  const out: string[] = new Array(captions.length);
  for (let i = 0; i < captions.length; i++) {
    const kept: string[] = [];
    for (const token of lines[i] ?? []) {
      const lower = token.toLowerCase();
      if (!TOOLKIT_PUNCTUATION.has(lower)) kept.push(lower);
    }
    out[i] = kept.join(' ');
  }
  return out;
}

/** One caption, tokenised on its own (see `tokenizeCaptions`). */
export function tokenizeCaption(caption: string): string {
  return tokenizeCaptions([caption])[0];
}

/**
 * The raw PTB tokens of one caption, before lower-casing and punctuation removal (for
 * inspection and tests: "A dog (brown)." -> ["A", "dog", "-LRB-", "brown", "-RRB-", "."]).
 */
export function ptbTokens(caption: string): string[] {
  return lexLines(caption.replace(LINE_BREAKS, ' '))[0];
}
