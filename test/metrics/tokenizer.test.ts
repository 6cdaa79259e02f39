// The toolkit's caption normalisation: PTB tokenization (CoreNLP 3.4.1, -lowerCase
// -preserveLines) then removal of its punctuation list. Every expectation below is what the
// Java tokenizer + pycocoevalcap's filter produce (checked against CoreNLP 3.4.1 built from
// source); the comment says which lexer rule is at work.
import { strict as assert } from 'node:assert';
import { test } from 'node:test';

import { ptbTokens, tokenizeCaption, tokenizeCaptions } from '../../src/metrics/tokenizer';
import { pySplit } from '../../src/metrics/ngrams';

const CASES: [string, string, string][] = [
  // [why, raw caption, toolkit output]
  ['lower-case, final period dropped', 'A man riding a wave on top of a surfboard.', 'a man riding a wave on top of a surfboard'],
  ["n't splits off a word that ends before the n", "Two dogs can't play.", "two dogs ca n't play"],
  ["'s and n't", "The cat's toy isn't here", "the cat 's toy is n't here"],
  ["'m 're 'll 'd 've, ',' ';' '!' dropped", "I'm sure they're here, we'll see; you'd've done it!", "i 'm sure they 're here we 'll see you 'd 've done it"],
  ['parentheses become -LRB- -RRB-, lower-cased, so the filter keeps them', 'A dog (brown) sleeps', 'a dog -lrb- brown -rrb- sleeps'],
  ['double quotes become `` and \'\' (dropped)', 'She said "hello" to him', 'she said hello to him'],
  ["single quotes become ` and ' (dropped)", "It's 'quoted' text", "it 's quoted text"],
  ['hyphenated words stay whole', 'A well-known T-shirt shop', 'a well-known t-shirt shop'],
  ['-- and - are dropped', 'A man -- and a woman - on a bench', 'a man and a woman on a bench'],
  ['runs of spaces and tabs', '  Two   DOGS\tplaying  ', 'two dogs playing'],
  ['numbers with commas, decimals, times; number-word compounds', 'A 1,000-piece puzzle and 3.5 pies at 3:30', 'a 1,000-piece puzzle and 3.5 pies at 3:30'],
  ['known abbreviations keep their period', 'A sign for Main St. and the U.S. flag', 'a sign for main st. and the u.s. flag'],
  ['etc. before a lower-case word', 'Cats, dogs, etc. are here', 'cats dogs etc. are here'],
  ['titles and a.m./p.m.', 'Mr. and Mrs. Smith at 5 p.m.', 'mr. and mrs. smith at 5 p.m.'],
  ['?! and !! are single tokens the filter does not list', 'Wait?! Really!!', 'wait ?! really !!'],
  ['cannot and gonna are split', 'You cannot go, gonna stay', 'you can not go gon na stay'],
  ['empty caption', '', ''],
  ['only punctuation', '...', ''],
  ['characters it cannot tokenise (emoji) are deleted', 'A dog \u{1F436} running', 'a dog running'],
  ['&amp; is an ampersand', 'Tom &amp; Jerry', 'tom & jerry'],
  ['braces and brackets', '{a} [b]', '-lcb- a -rcb- -lsb- b -rsb-'],
  ["O' names stay whole", "O'Neill's dog doesn't bark", "o'neill 's dog does n't bark"],
  ['colon and semicolon dropped', "A man's hat; a woman's coat: nice", "a man 's hat a woman 's coat nice"],
  ['a newline inside a caption is a space', 'a dog\nrunning', 'a dog running'],
  // a run of spaces, tabs and no-break spaces is skipped as one: the no-break space cannot
  // start a URL-like token " .org"
  ['space runs include no-break spaces', 'x \u00A0.org', 'x org'],
  ['zero-width and control characters are dropped', 'a\u200Bb \u0000c\u007F', 'a b c'],
];

for (const [why, raw, expected] of CASES) {
  test(`tokenizeCaption: ${why}`, () => {
    assert.equal(tokenizeCaption(raw), expected);
  });
}

test('tokenizeCaptions keeps one output per caption, in order, empty ones included', () => {
  const out = tokenizeCaptions(['A dog.', '', 'Two cats!', '...', 'end']);
  assert.deepEqual(out, ['a dog', '', 'two cats', '', 'end']);
});

test('the next caption can decide a final period, as in the toolkit batch', () => {
  // "B." before a line starting with "The " is the acronym rule: "B" then "." (dropped);
  // before a lower-case word it is the abbreviation "B." kept whole.
  assert.deepEqual(tokenizeCaptions(['Plan B.', 'The dog ran']), ['plan b', 'the dog ran']);
  assert.deepEqual(tokenizeCaptions(['Plan B.', 'the dog ran']), ['plan b.', 'the dog ran']);
});

test('fractions: ½ is normalised, "2 1/2" is one token with a non-breaking space', () => {
  const out = tokenizeCaption('\u00BD cup and 2 1/2 cups');
  assert.equal(out, '1/2 cup and 2\u00A01/2 cups');
  // BLEU and CIDEr split like Python's str.split() (the nbsp separates), ROUGE on ' ' only
  assert.deepEqual(pySplit(out), ['1/2', 'cup', 'and', '2', '1/2', 'cups']);
  assert.equal(out.split(' ').length, 5);
});

test('ptbTokens shows the raw PTB tokens before lower-casing and filtering', () => {
  assert.deepEqual(ptbTokens('A dog (brown) said "hi".'), ['A', 'dog', '-LRB-', 'brown', '-RRB-', 'said', '``', 'hi', "''", '.']);
});

test('other line breaks inside a caption do not shift the captions after it', () => {
  // Java would start a new line at \r or U+2028 and pair later captions with wrong images
  const out = tokenizeCaptions(['a\rb', 'c\u2028d', 'e\r\nf', 'g']);
  assert.deepEqual(out, ['a b', 'c d', 'e f', 'g']);
});
