/**
 * A small POSIX shell lexer for the permission policy: splits a command line into segments (simple
 * commands) of words, honouring quotes and backslash escapes, and refuses everything it does not reason
 * about. Refused (the caller asks the user): parameter expansion and command substitution (`$`, backticks),
 * redirections other than to /dev/null or between descriptors, here-documents, subshells `( … )`, groups and
 * brace expansion `{ … }`, history/negation `!`, unbalanced quotes, and a trailing backslash. Pure.
 */

/** One word after quote removal. */
export interface ShellWord {
  text: string;
  /** An unquoted `*`, `?` or `[` remains: the shell expands it to matching file names. */
  glob: boolean;
  /** Starts with an unquoted `~`: the shell expands it to a home folder. */
  tilde: boolean;
}

/** The operator that ends a segment: `&&`, `||`, `|`, `;`, `&`, or end of input (``). Newlines count as `;`. */
export type Separator = '&&' | '||' | '|' | '|&' | ';' | '&' | '';

export interface ShellSegment {
  words: ShellWord[];
  /** The operator after this segment. */
  sep: Separator;
}

export type LexResult = { segments: ShellSegment[] } | { ask: string };

/** Redirection targets that write nothing anyone reads. */
const harmlessTargets = new Set(['/dev/null']);

export function lexCommand(command: string): LexResult {
  const segments: ShellSegment[] = [];
  let words: ShellWord[] = [];
  let cur: ShellWord | undefined;
  const word = () => (cur ??= { text: '', glob: false, tilde: false });
  const endWord = () => {
    if (cur) words.push(cur);
    cur = undefined;
  };
  const endSegment = (sep: Separator) => {
    endWord();
    if (words.length) segments.push({ words, sep });
    else if (sep !== ';' && sep !== '') return false;
    words = [];
    return true;
  };
  const s = command;
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (c === ' ' || c === '\t') {
      endWord();
      continue;
    }
    if (c === '\n' || c === ';') {
      if (c === ';' && s[i + 1] === ';') return { ask: 'a case clause (;;)' };
      endSegment(';');
      continue;
    }
    if (c === '&' || c === '|') {
      const two = s.slice(i, i + 2);
      if (c === '&' && s[i + 1] === '>') {
        endWord();
        const r = redirect(s, i, 2);
        if ('ask' in r) return r;
        i = r.end - 1;
        continue;
      }
      const sep: Separator = two === '&&' ? '&&' : two === '||' ? '||' : two === '|&' ? '|&' : (c as Separator);
      if (sep.length === 2) i++;
      if (!endSegment(sep)) return { ask: `an operator without a command before it (${sep})` };
      continue;
    }
    if (c === '$' || c === '`') return { ask: 'variable expansion or command substitution' };
    if (c === '<') return { ask: s[i + 1] === '<' ? 'a here-document or here-string' : 'an input redirection' };
    if (c === '>') {
      // `2>&1`, `>/dev/null`: a descriptor number typed just before belongs to the redirection.
      if (cur && /^\d+$/.test(cur.text) && !cur.glob && !cur.tilde && s[i - 1] === cur.text.slice(-1)) cur = undefined;
      else endWord();
      const r = redirect(s, i, 1);
      if ('ask' in r) return r;
      i = r.end - 1;
      continue;
    }
    if (c === '(' || c === ')') return { ask: 'a subshell or grouping ( … )' };
    if (c === '{' || c === '}') return { ask: 'a command group or brace expansion { … }' };
    if (c === '!' && !cur) return { ask: 'negation or history expansion (!)' };
    if (c === '#' && !cur) {
      while (i < s.length && s[i] !== '\n') i++;
      i--;
      continue;
    }
    if (c === '\\') {
      if (i + 1 >= s.length) return { ask: 'a trailing backslash' };
      i++;
      if (s[i] !== '\n') word().text += s[i];
      continue;
    }
    if (c === "'") {
      const end = s.indexOf("'", i + 1);
      if (end < 0) return { ask: 'unbalanced quotes' };
      word().text += s.slice(i + 1, end);
      i = end;
      continue;
    }
    if (c === '"') {
      const w = word();
      let j = i + 1;
      for (; j < s.length && s[j] !== '"'; j++) {
        if (s[j] === '$' || s[j] === '`') return { ask: 'variable expansion or command substitution' };
        if (s[j] === '\\' && j + 1 < s.length && '$`"\\\n'.includes(s[j + 1])) {
          j++;
          if (s[j] !== '\n') w.text += s[j];
        } else w.text += s[j];
      }
      if (j >= s.length) return { ask: 'unbalanced quotes' };
      i = j;
      continue;
    }
    const w = word();
    if (c === '~' && w.text === '') w.tilde = true;
    if (c === '*' || c === '?' || c === '[') w.glob = true;
    w.text += c;
  }
  endSegment('');
  if (
    segments.length &&
    segments[segments.length - 1].sep !== '' &&
    segments[segments.length - 1].sep !== ';' &&
    segments[segments.length - 1].sep !== '&'
  ) {
    return { ask: `a command line ending in ${segments[segments.length - 1].sep}` };
  }
  return { segments };
}

/**
 * Reads a redirection starting at the operator `s[i]` (`>`, `>>`, `&>`, `>&N`, `>|`). Only a duplication
 * between descriptors (`2>&1`) or a target of /dev/null is accepted.
 */
function redirect(s: string, i: number, opLen: number): { end: number } | { ask: string } {
  let j = i + opLen;
  if (s[j] === '>' || s[j] === '|') j++;
  if (s[j] === '&') {
    const m = /^&(\d+|-)/.exec(s.slice(j));
    if (m && !/[^\s;&|]/.test(s[j + m[0].length] ?? ' ')) return { end: j + m[0].length };
    return { ask: 'a redirection' };
  }
  while (s[j] === ' ' || s[j] === '\t') j++;
  const m = /^[^\s;&|<>()]+/.exec(s.slice(j));
  if (m && harmlessTargets.has(m[0])) return { end: j + m[0].length };
  return { ask: `a redirection to ${m ? m[0] : 'a file'}` };
}
