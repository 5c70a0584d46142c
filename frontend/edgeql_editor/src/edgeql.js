// EdgeQL highlighting: a stream tokenizer (no grammar). Keyword lists come from Python
// (ecc/editor/language.py) as data, so the language is built per editor from `data.language`.
import {StreamLanguage} from "@codemirror/language";
import {Tag, tagHighlighter} from "@lezer/highlight";

// One tag per token kind; the highlighter turns each into a stable `eq-<kind>` class that the
// CSS colours (and the browser tests look for).
const KINDS = ["keyword", "string", "comment", "number", "param", "cast", "operator",
  "name", "linkprop", "path", "type", "function", "bracket"];
export const tokenTags = Object.fromEntries(KINDS.map((k) => [k, Tag.define()]));
export const edgeqlHighlighter = tagHighlighter(
  KINDS.map((k) => ({tag: tokenTags[k], class: `eq-${k}`})));

const IDENT = /^[A-Za-z_][A-Za-z_0-9]*(::[A-Za-z_][A-Za-z_0-9]*)*/;
const NUMBER = /^\d[\d_]*(\.\d[\d_]*)?([eE][+-]?\d+)?n?/;
const OPERATORS = /^(:=|\?\?|\+\+|->|\/\/|\?!=|\?=|!=|<=|>=|::|[=+\-*/%^|&<>])/;
// After these a `<` opens a cast; after a value it compares.
const VALUE_END = new Set(["name", "number", "string", "param", "path", "linkprop", "close"]);

function readQuoted(stream, state) {
  // Inside '...' or "..." (possibly raw): consume up to the closing quote or the line end.
  const {quote, raw} = state.str;
  let ch;
  while ((ch = stream.next()) != null) {
    if (ch === "\\" && !raw) { stream.next(); continue; }
    if (ch === quote) { state.str = null; state.last = "string"; return "string"; }
  }
  return "string";
}

function readDollar(stream, state) {
  const close = state.dollar;
  const at = stream.string.indexOf(close, stream.pos);
  if (at < 0) { stream.skipToEnd(); return "string"; }
  stream.pos = at + close.length;
  state.dollar = null;
  state.last = "string";
  return "string";
}

export function edgeqlLanguage(keywords, types) {
  const kw = new Set(keywords.map((k) => k.toLowerCase()));
  const typeNames = new Set(types);
  return StreamLanguage.define({
    name: "edgeql",
    startState: () => ({str: null, dollar: null, cast: 0, last: null}),
    copyState: (s) => ({...s}),
    token(stream, state) {
      if (state.str) return readQuoted(stream, state);
      if (state.dollar) return readDollar(stream, state);
      if (stream.eatSpace()) return null;
      const ch = stream.peek();
      if (ch === "#") { stream.skipToEnd(); return "comment"; }
      // String prefixes: r'..' raw, b'..' bytes, br/rb both.
      const prefixed = stream.match(/^(br|rb|r|b)(?=['"])/i, false);
      if (prefixed || ch === "'" || ch === '"') {
        const prefix = prefixed ? prefixed[0].toLowerCase() : "";
        stream.pos += prefix.length;
        const quote = stream.next();
        state.str = {quote, raw: prefix.includes("r")};
        return readQuoted(stream, state);
      }
      if (ch === "$") {
        const tag = stream.match(/^\$([A-Za-z_][A-Za-z_0-9]*)?\$/);
        if (tag) { state.dollar = tag[0]; return readDollar(stream, state); }
        if (stream.match(/^\$([A-Za-z_][A-Za-z_0-9]*|\d+|`[^`]*`)/)) {
          state.last = "param"; return "param";
        }
        stream.next(); return null;
      }
      if (ch === "`") {
        stream.next();
        stream.skipTo("`") ? stream.next() : stream.skipToEnd();
        state.last = "name"; return state.cast ? "cast" : "name";
      }
      if (ch === "@") {
        stream.next();
        if (stream.match(IDENT)) { state.last = "linkprop"; return "linkprop"; }
        return "operator";
      }
      if (ch === "." && !state.cast) {
        stream.next();
        stream.eat("<");
        if (stream.match(IDENT)) { state.last = "path"; return "path"; }
        state.last = "op"; return "operator";
      }
      if (/\d/.test(ch)) {
        stream.match(NUMBER);
        state.last = "number"; return "number";
      }
      if (ch === "<" && !state.cast && !VALUE_END.has(state.last) &&
          stream.match(/^<\s*[A-Za-z_`]/, false)) {
        stream.next(); state.cast = 1; state.last = "op"; return "cast";
      }
      if (state.cast) {
        if (ch === "<") { stream.next(); state.cast++; return "cast"; }
        if (ch === ">") {
          stream.next(); state.cast--; state.last = state.cast ? "op" : "castend";
          return "cast";
        }
        if (stream.match(IDENT) || stream.match(/^[,:\s]+/) || stream.match(NUMBER)) {
          return "cast";
        }
        state.cast = 0; // not a cast after all (e.g. unbalanced): fall through
      }
      const word = stream.match(IDENT);
      if (word) {
        const text = word[0];
        if (kw.has(text.toLowerCase())) { state.last = "kw"; return "keyword"; }
        state.last = "name";
        if (stream.match(/^\s*\(/, false)) return "function";
        if (typeNames.has(text)) return "type";
        return null;
      }
      const op = stream.match(OPERATORS);
      if (op) { state.last = "op"; return "operator"; }
      stream.next();
      if (")]}".includes(ch)) { state.last = "close"; return "bracket"; }
      state.last = "op";
      return "([{".includes(ch) ? "bracket" : null;
    },
    languageData: {commentTokens: {line: "#"}, closeBrackets: {brackets: ["(", "[", "{", "'", '"']}},
    tokenTable: tokenTags,
  });
}

