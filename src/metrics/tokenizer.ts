/**
 * Caption normalisation as the COCO caption toolkit (pycocoevalcap) does it.
 *
 * The toolkit joins all captions of one side (references, or hypotheses) with newlines,
 * runs the Stanford PTBTokenizer of CoreNLP 3.4.1 over them
 * (`java -cp stanford-corenlp-3.4.1.jar edu.stanford.nlp.process.PTBTokenizer
 * -preserveLines -lowerCase`), splits the output back into lines, and drops the tokens
 * `'' ' `` ` -LRB- -RRB- -LCB- -RCB- . ? ! , : - -- ... ;`.
 *
 * We re-implement that lexer: its rules are written as regular expressions (ptb-rules.ts,
 * from the macros of ptb-patterns.ts), tried at each position, and the longest match wins
 * (counting trailing context, ties to the earlier rule), as in the JFlex scanner
 * (ptb-lexer.ts). This module is the toolkit's pipeline around it: captions joined, lexed,
 * lower-cased, punctuation dropped. What the toolkit does, and we do too:
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
import { lexLines } from './ptb-lexer';

// ---------------------------------------------------------------------------------------
// The toolkit's pipeline.

/** Tokens the toolkit drops after tokenising (compared after lower-casing, as it does). */
export const TOOLKIT_PUNCTUATION: ReadonlySet<string> = new Set([
  "''", "'", '``', '`', '-LRB-', '-RRB-', '-LCB-', '-RCB-', '.', '?', '!', ',', ':', '-', '--',
  '...', ';',
]);

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
