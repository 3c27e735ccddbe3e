// Splitting a command line into words the way /bin/sh would for the quoting we meet:
// single quotes, double quotes, backslash escapes, backslash-newline continuations.
// No shell runs. Each word comes back twice: as sh reads it, and as it was written.

export interface ShellToken {
  /** the word as sh passes it on */
  word: string;
  /** the word as written, quotes and escapes kept */
  raw: string;
}

export function shellTokens(line: string): ShellToken[] {
  const tokens: ShellToken[] = [];
  let word = '';
  let raw = '';
  let inWord = false;
  const end = () => {
    if (inWord) tokens.push({ word, raw });
    word = raw = '';
    inWord = false;
  };
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (c === "'") {
      const close = line.indexOf("'", i + 1);
      if (close < 0) throw new Error("unterminated ' in command line");
      word += line.slice(i + 1, close);
      raw += line.slice(i, close + 1);
      i = close;
      inWord = true;
    } else if (c === '"') {
      let j = i + 1;
      for (; j < line.length && line[j] !== '"'; j++) {
        // Inside double quotes a backslash escapes only these (POSIX).
        if (line[j] === '\\' && '"\\$`'.includes(line[j + 1] ?? '')) j++;
        word += line[j];
      }
      if (j >= line.length) throw new Error('unterminated " in command line');
      raw += line.slice(i, j + 1);
      i = j;
      inWord = true;
    } else if (c === '\\' && line[i + 1] === '\n') {
      i++; // a line continuation: neither a character nor a word break
    } else if (c === '\\' && i + 1 < line.length) {
      word += line[i + 1];
      raw += line.slice(i, i + 2);
      i++;
      inWord = true;
    } else if (c === ' ' || c === '\t' || c === '\n') {
      end();
    } else {
      word += c;
      raw += c;
      inWord = true;
    }
  }
  end();
  return tokens;
}

export const shellWords = (line: string): string[] => shellTokens(line).map((t) => t.word);
