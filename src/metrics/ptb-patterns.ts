/**
 * The PTB lexer's character classes and macros (names as in CoreNLP 3.4.1's PTBLexer.flex),
 * as regular-expression sources for the rules in ptb-rules.ts. Character classes come from
 * this engine's Unicode tables, restricted to UTF-16 code units; `jf` turns a JFlex fragment
 * of the %caseless scanner into a regular expression, `alts` makes longest-first alternatives.
 *
 *   new RegExp(`(${WORD})(?:${REDAUX})`, 'y');   // a word before "'s", "'re", ...
 *   jf('cannot');                              // '[cC][aA][nN][nN][oO][tT]'
 *   alts(['re', 've', 'll']);                  // '(?:[rR][eE]|[vV][eE]|[lL][lL])'
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
export function jf(src: string): string {
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
export function alts(words: string[]): string {
  return `(?:${[...words].sort((a, b) => b.length - a.length).map(jf).join('|')})`;
}

const RAW_LETTER = bmpClass(/\p{L}/u);
export const RAW_DIGIT = bmpClass(/\p{Nd}/u, '\\u07c0-\\u07c9');
const UPPER = bmpClass(/\p{Lu}/u);
const EXTRA_LETTER =
  '\\u00AD\\u0237-\\u024F\\u02C2-\\u02C5\\u02D2-\\u02DF\\u02E5-\\u02FF\\u0300-\\u036F\\u0370-\\u037D\\u0384\\u0385\\u03CF\\u03F6\\u03FC-\\u03FF\\u0483-\\u0487\\u04CF\\u04F6-\\u04FF\\u0510-\\u0525\\u055A-\\u055F\\u0591-\\u05BD\\u05BF\\u05C1\\u05C2\\u05C4\\u05C5\\u05C7\\u0615-\\u061A\\u063B-\\u063F\\u064B-\\u065E\\u0670\\u06D6-\\u06EF\\u06FA-\\u06FF\\u070F\\u0711\\u0730-\\u074F\\u0750-\\u077F\\u07A6-\\u07B1\\u07CA-\\u07F5\\u07FA\\u0900-\\u0903\\u093C\\u093E-\\u094E\\u0951-\\u0955\\u0962-\\u0963\\u0981-\\u0983\\u09BC-\\u09C4\\u09C7\\u09C8\\u09CB-\\u09CD\\u09D7\\u09E2\\u09E3\\u0A01-\\u0A03\\u0A3C\\u0A3E-\\u0A4F\\u0A81-\\u0A83\\u0ABC-\\u0ACF\\u0B82\\u0BBE-\\u0BC2\\u0BC6-\\u0BC8\\u0BCA-\\u0BCD\\u0C01-\\u0C03\\u0C3E-\\u0C56\\u0D3E-\\u0D44\\u0D46-\\u0D48\\u0E30-\\u0E3A\\u0E47-\\u0E4E\\u0EB1-\\u0EBC\\u0EC8-\\u0ECD';

// ---------------------------------------------------------------------------------------
// The lexer's macros (names as in PTBLexer.flex), as regular-expression sources.

export const D = `[${RAW_DIGIT}]`;
const LD_RAW = `[${RAW_LETTER}${RAW_DIGIT}]`; // [:letter:]|[:digit:]
export const L_RAW = `[${RAW_LETTER}]`;
const SPLET = `&[aeiouAEIOU]${alts(['acute', 'grave', 'uml'])};`;
export const LETTER = `(?:[${RAW_LETTER}${EXTRA_LETTER}]|${SPLET})`;
const LETTER_OR_DIGIT = `(?:[${RAW_LETTER}${EXTRA_LETTER}${RAW_DIGIT}]|${SPLET})`;
export const WORD = `${LETTER}${LETTER_OR_DIGIT}*(?:[.!?]${LETTER}${LETTER_OR_DIGIT}*)*`;
export const SGML =
  `<(?:[!?][A-Za-z\\-][^>\\r\\n]*|[A-Za-z][A-Za-z0-9_:.\\-]*(?:[ ]+(?:[A-Za-z][A-Za-z0-9_:.\\-]*[ ]*=[ ]*(?:'[^'\\n]*'|"[^"\\n]*")|[A-Za-z][A-Za-z0-9_:.\\-]*))*[ ]*\\/?|\\/[A-Za-z][A-Za-z0-9_:.\\-]*)[ ]*>`;
export const SPACE = '[ \\t\\u00A0\\u2000-\\u200A\\u3000]';
export const NEWLINE = '(?:\\r?\\n|[\\r\\u2028\\u2029\\u000B\\u000C\\u0085])';
export const SPACENL = `(?:${SPACE}|${NEWLINE})`;
export const SENTEND = `${SPACENL}(?:${SPACENL}|[${UPPER}]|${SGML})`;
export const NUMBER = `[\\-+]?(?:${D}*(?:[.:,\\u00AD\\u066B\\u066C]${D}+)+|${D}+)`;
export const APOS = `(?:['\\u0092\\u2019]|${jf('&apos;')})`;
export const APOSETC = `(?:${APOS}|[\`\\u0091\\u2018\\u201B])`;
export const REDAUX = `${APOS}(?:[msdMSD]|${alts(['re', 've', 'll'])})`;
export const SWORD = '[A-Za-z\\u00AD]*[A-MO-Za-mo-z]\\u00AD*';
export const SREDAUX = `${jf('n')}${APOSETC}${jf('t')}`;
const HYPHEN = '[\\-_\\u058A\\u2010\\u2011]';
const THING_PART = `(?:[dDoOlL]${APOSETC}${LD_RAW})?${LD_RAW}+`;
export const THING = `${THING_PART}(?:${HYPHEN}${THING_PART})*`;
export const SPAMP = jf('&amp;');
export const THINGA = `[A-Z]+(?:(?:[+&]|${SPAMP})[A-Z]+)+`;
export const THING3 = '[A-Za-z0-9]+(?:-[A-Za-z]+){0,2}(?:\\\\?\\/[A-Za-z0-9]+(?:-[A-Za-z]+){0,2}){1,2}';
const ACRO_SPECIAL = `${jf('(Canada|Sino|Korean|EU|Japan|non)-U\\.S')}|${jf('U\\.S\\.-(U\\.K|U\\.S\\.S\\.R)')}`;
export const ACRO = `(?:[A-Za-z](?:\\.[A-Za-z])*|${ACRO_SPECIAL})`;
const ACRO2 = `(?:[A-Za-z](?:\\.[A-Za-z])+|${ACRO_SPECIAL})`;
export const HTHING = `[A-Za-z0-9][A-Za-z0-9.,\\u00AD]*(?:-(?:${ACRO2}\\.|[A-Za-z0-9\\u00AD]+))+`;
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
export const ABBREV1 = `${alts([...ABMONTH, ...ABDAYS, ...ABSTATE, ...ABCOMP, ...ABNUM, ...ABPTIT,
  'etc', 'al', 'seq', 'Bldg'])}\\.`;
const ABTITLE = ['Mr', 'Mrs', 'Ms', '[M]iss', 'Drs?', 'Profs?', 'Sens?', 'Reps?', 'Attys?', 'Lt',
  'Col', 'Gen', 'Messrs', 'Govs?', 'Adm', 'Rev', 'Maj', 'Sgt', 'Cpl', 'Pvt', 'Capt', 'Ste?', 'Ave',
  'Pres', 'Lieut', 'Hon', 'Brig', 'Co?mdr', 'Pfc', 'Spc', 'Supts?', 'Det', 'Mt', 'Ft', 'Adj', 'Adv',
  'Asst', 'Assoc', 'Ens', 'Insp', 'Mlle', 'Mme', 'Msgr', 'Sfc'];
const ABCOMP2 = ['Invt', 'Elec', 'Natl', 'M[ft]g', 'Dept'];
export const ABBREV4 = `(?:${ACRO}|${alts([...ABTITLE, 'vs', 'Alex', 'Wm', 'Jos', 'Cie', 'a\\.k\\.a', 'cf',
  'TREAS', 'Ph', ...ABCOMP2])})`;
export const ABBREV3 = `${alts(['ca', 'figs?', 'prop', 'nos?', 'art', 'bldg', 'pp', 'op'])}\\.`;
export const ACRONYM_NEXT = alts(['[A]bout', '[A]ccording', '[A]dditionally', '[A]fter', '[A]n', '[A]',
  '[A]s', '[A]t', '[B]ut', '[E]arlier', '[H]e', '[H]er', '[H]ere', '[H]owever', '[I]f', '[I]n',
  '[I]t', '[L]ast', '[M]any', '[M]ore', '[M]r\\.', '[M]s\\.', '[N]ow', '[O]nce', '[O]ne', '[O]ther',
  '[O]ur', '[S]he', '[S]ince', '[S]o', '[S]ome', '[S]uch', '[T]hat', '[T]he', '[T]heir', '[T]hen',
  '[T]here', '[T]hese', '[T]hey', '[T]his', '[W]e', '[W]hen', '[W]hile', '[W]hat', '[Y]et',
  '[Y]ou']);
const FILENAME_EXT = alts(['bat', 'bmp', 'c', 'class', 'cgi', 'cpp', 'dll', 'doc', 'docx', 'exe',
  'gif', 'gz', 'h', 'htm', 'html', 'jar', 'java', 'jpeg', 'jpg', 'mov', 'mp3', 'pdf', 'php', 'pl',
  'png', 'ppt', 'ps', 'py', 'sql', 'tar', 'txt', 'wav', 'x', 'xml', 'zip']);
export const FILENAME = `${LETTER_OR_DIGIT}+(?:[.]${LETTER_OR_DIGIT}+)*(?:[.]${FILENAME_EXT})`;
export const INSENTP = '[,;:\\u3001]';
export const QUOTE_CHARS =
  '[`\\u2018\\u2019\\u201A\\u201B\\u201C\\u201D\\u0091\\u0092\\u0093\\u0094\\u201E\\u201F\\u2039\\u203A\\u00AB\\u00BB]';
export const MISCSYMBOL =
  '[+%&~\\^|\\\\\\u00A6\\u00A7\\u00A8\\u00A9\\u00AC\\u00AE\\u00AF\\u00B0-\\u00B3\\u00B4-\\u00BA\\u00D7\\u00F7\\u0387\\u05BE\\u05C0\\u05C3\\u05C6\\u05F3\\u05F4\\u0600-\\u0603\\u0606-\\u060A\\u060C\\u0614\\u061B\\u061E\\u066A\\u066D\\u0703-\\u070D\\u07F6\\u07F7\\u07F8\\u0964\\u0965\\u0E4F\\u1FBD\\u2016\\u2017\\u2020-\\u2023\\u2030-\\u2038\\u203B\\u203E-\\u2042\\u2044\\u207A-\\u207F\\u208A-\\u208E\\u2100-\\u214F\\u2190-\\u21FF\\u2200-\\u2BFF\\u3012\\u30FB\\uFF01-\\uFF0F\\uFF1A-\\uFF20\\uFF3B-\\uFF40\\uFF5B-\\uFF65]';
export const URL_END = '[^ \\t\\n\\f\\r"<>|.!?(){},\\-]';
