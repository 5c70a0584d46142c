// Completion for EdgeQL, fed plain data built in Python (ecc/schema/completions.py):
//   {keywords: [..], builtin_types: [..], modules: [..], types: [{name, short, kind}],
//    objects: {fullName: [{name, kind, target, card, link_props: [{name, target}]}]},
//    aliases: {shortName: fullName}, functions: [{name, short, signature}], params: [..]}
// The context logic follows the Gel web UI's completions.ts in spirit (the type of the
// shape or path in front of the cursor decides what is offered) on a small token scan
// instead of a grammar. Strings and comments are skipped; at most SCAN_CHARS before the
// cursor are read, so a 1 MB document costs no more than a small one.

const SCAN_CHARS = 20000;
const TOKEN = /\s+|#[^\n]*|(?:br|rb|r|b)?'(?:\\.|[^'\\])*'?|(?:br|rb|r|b)?"(?:\\.|[^"\\])*"?|\$([A-Za-z_]\w*)?\$[\s\S]*?(?:\$\1\$|$)|\$(?:[A-Za-z_]\w*|\d+)?|`[^`]*`?|[A-Za-z_]\w*(?:::[A-Za-z_]\w*)*(?:::)?|\d[\w.]*|:=|::|\.<|[{}()[\].,:@<>;]|./gy;
const SUBJECT_KEYWORDS = new Set(["select", "insert", "update", "delete", "group"]);

function tokenize(text) {
  const out = [];
  TOKEN.lastIndex = 0;
  let m;
  while (TOKEN.lastIndex < text.length && (m = TOKEN.exec(text))) {
    const t = m[0];
    const c = t[0];
    if (/\s/.test(c) || c === "#") continue;
    let kind = "punct";
    if (/[A-Za-z_]/.test(c) && !/^(?:br|rb|r|b)?['"]/.test(t)) kind = "ident";
    else if (c === "'" || c === '"' || /^(?:br|rb|r|b)['"]/.test(t)) kind = "string";
    else if (c === "$") kind = /^\$\w*\$/.test(t) ? "string" : "param";
    else if (c === "`") kind = "ident";
    else if (/\d/.test(c)) kind = "number";
    out.push({kind, text: kind === "ident" && c === "`" ? t.slice(1, -1) : t, pos: m.index});
  }
  return out;
}

// Names typed by the user and names from the schema are looked up in Maps, never as keys of
// plain objects: `constructor`, `__proto__` or `toString` would find Object.prototype's members.
export class SchemaIndex {
  constructor(data) {
    this.data = data;
    this.objects = new Map(Object.entries(data.objects || {}));
    this.aliases = new Map(Object.entries(data.aliases || {}));
    this.keywords = new Set((data.keywords || []).map((k) => k.toLowerCase()));
  }
  resolveType(name) {
    if (!name) return null;
    if (this.objects.has(name)) return name;
    const full = this.aliases.get(name);
    return full && this.objects.has(full) ? full : null;
  }
  pointer(type, name) {
    const list = this.objects.get(type);
    return list ? list.find((p) => p.name === name) || null : null;
  }
}

// The type a `.name` step starts from: the value in front of the dot when there is one
// (`Movie.`, `.actors.`, `{...}.`), else the subject of the enclosing select or shape.
function pathOwner(base, frame, index) {
  const isValue = base && ((base.kind === "ident" && !index.keywords.has(base.text.toLowerCase()))
    || base.text === "}" || base.text === ")");
  return isValue ? base.rtype || null : frame.elem || frame.subject;
}

// The context at the end of `text`: what kind of name is being typed and for which type.
export function completionContext(text, index) {
  const start = Math.max(0, text.length - SCAN_CHARS);
  const tokens = tokenize(text.slice(start));
  const frames = [{type: null, link: null, subject: null, elem: null, stmt: null}];
  let prev = null;
  for (let i = 0; i < tokens.length; i++) {
    const tok = tokens[i];
    const frame = frames[frames.length - 1];
    if (tok.kind === "ident") {
      const before = tokens[i - 1];
      if (before && (before.text === "." || before.text === ".<")) {
        const owner = before.text === "." ? pathOwner(tokens[i - 2], frame, index) : null;
        const ptr = owner ? index.pointer(owner, tok.text) : null;
        tok.rtype = ptr && ptr.kind === "link" ? index.resolveType(ptr.target) : null;
        tok.ptr = ptr && ptr.kind === "link" ? {owner, name: tok.text} : null;
      } else if (frame.type && before && (before.text === "{" || before.text === ",")) {
        const ptr = index.pointer(frame.type, tok.text);
        tok.rtype = ptr && ptr.kind === "link" ? index.resolveType(ptr.target) : null;
        tok.ptr = ptr && ptr.kind === "link" ? {owner: frame.type, name: tok.text} : null;
      } else {
        tok.rtype = index.resolveType(tok.text);
        if (before && before.kind === "ident" && SUBJECT_KEYWORDS.has(before.text.toLowerCase())
            && tok.rtype) {
          frame.subject = tok.rtype;
          frame.elem = null;
          frame.stmt = before.text.toLowerCase();
        }
      }
    } else if (tok.text === "{" || tok.text === "(" || tok.text === "[") {
      let type = null;
      let link = null;
      if (tok.text === "{" && prev) {
        const owner = prev.text === ":" ? tokens[i - 2] : prev;
        if (owner && owner.kind === "ident" && owner.rtype) {
          type = owner.rtype;
          link = owner.ptr || null;
        } else if (prev.kind === "ident" && prev.text.toLowerCase() === "set") {
          type = frame.subject; // `update Movie filter ... set { ... }`
        }
      }
      // A shape's statement decides how a pointer completes: `name` / `link: {}` in a
      // select, `name := ` in an insert or update (nested shapes of a select stay select).
      let stmt = frame.type ? frame.stmt : null;
      if (tok.text === "{" && type && !stmt) {
        const keyword = prev && prev.text.toLowerCase() === "set" ? "update" : frame.stmt;
        stmt = keyword === "insert" || keyword === "update" ? keyword : "select";
      }
      frames.push({type, link, subject: type || frame.elem || frame.subject, elem: null,
        open: tok.text, stmt: type ? stmt : null});
    } else if (tok.text === "}" || tok.text === ")" || tok.text === "]") {
      if (frames.length > 1) {
        const closed = frames.pop();
        const outer = frames[frames.length - 1];
        if (closed.open === "{" && closed.link) outer.elem = closed.type;
        tok.rtype = closed.open === "{" ? closed.type : null;
      }
    } else if (tok.text === ",") {
      frame.elem = null;
    }
    prev = tok;
  }
  return {tokens, frame: frames[frames.length - 1]};
}

function option(label, type, detail, boost) {
  const o = {label, type};
  if (detail) o.detail = detail;
  if (boost) o.boost = boost;
  return o;
}

// In a select shape a link completes to `name: {}` with the cursor inside the braces (as
// the Gel web UI does); in an insert or update shape every pointer completes to `name := `.
function linkShapeApply(view, completion, from, to) {
  const insert = `${completion.label}: {  }`;
  view.dispatch({changes: {from, to, insert},
    selection: {anchor: from + completion.label.length + 4}, userEvent: "input.complete"});
}

function pointerOptions(index, type, stmt) {
  return (index.objects.get(type) || []).map((p) => {
    const o = option(p.name, p.kind === "link" ? "property" : "variable",
      `${p.card === "multi" ? "multi " : ""}${p.kind} → ${p.target}`);
    if (stmt === "insert" || stmt === "update") o.apply = `${p.name} := `;
    else if (stmt === "select" && p.kind === "link") o.apply = linkShapeApply;
    return o;
  });
}

function linkPropOptions(index, link) {
  const ptr = link ? index.pointer(link.owner, link.name) : null;
  return ptr ? (ptr.link_props || []).map((lp) => option(lp.name, "variable",
    `link property → ${lp.target}`)) : [];
}

// The CodeMirror completion source over `getData()` (read at call time: the data follows
// reruns without rebuilding the editor).
export function edgeqlCompletionSource(getData) {
  return (context) => {
    const data = getData();
    const index = new SchemaIndex(data);
    const line = context.state.sliceDoc(Math.max(0, context.pos - SCAN_CHARS), context.pos);
    const word = /[A-Za-z_0-9]*$/.exec(line)[0];
    const wordFrom = context.pos - word.length;
    const lead = line.slice(0, line.length - word.length);
    const trigger = lead.slice(-1);

    if (trigger === "$") {
      const options = (data.params || []).map((p) => option(p.slice(1), "variable", "parameter"));
      return {from: wordFrom, options, validFor: /^\w*$/};
    }
    const {tokens, frame} = completionContext(lead, index);
    const last = tokens[tokens.length - 1];
    const beforeLast = tokens[tokens.length - 2];
    if (trigger === "@") {
      let link = null;
      if (beforeLast && beforeLast.kind === "ident" && beforeLast.ptr) link = beforeLast.ptr;
      else if (frame.link && beforeLast && (beforeLast.text === "{" || beforeLast.text === ",")) {
        link = frame.link;
      }
      return link ? {from: wordFrom, options: linkPropOptions(index, link), validFor: /^\w*$/}
        : null;
    }
    if (trigger === "." && last && last.text === ".") {
      const owner = pathOwner(beforeLast, frame, index);
      return owner ? {from: wordFrom, options: pointerOptions(index, owner), validFor: /^\w*$/}
        : null;
    }
    // Module-qualified name: `default::Mo`.
    const qualified = /([A-Za-z_]\w*(?:::[A-Za-z_]\w*)*)::[A-Za-z_0-9]*$/.exec(line);
    if (qualified) {
      const module = qualified[1];
      const from = context.pos - (qualified[0].length - module.length - 2);
      const names = [...(data.types || []), ...(data.functions || [])]
        .filter((t) => t.name.startsWith(module + "::") && !t.name.slice(module.length + 2).includes("::"));
      const options = names.map((t) => option(t.name.slice(module.length + 2),
        t.signature ? "function" : t.kind === "object" ? "class" : "type", t.signature || t.kind));
      return {from, options, validFor: /^\w*$/};
    }
    if (!context.explicit && !word) return null;
    if (last && last.text === "<" && (!beforeLast || !beforeLast.rtype)) {
      // A cast: scalar and object type names.
      const options = [...(data.builtin_types || []).map((t) => option(t, "type", "builtin")),
        ...(data.types || []).map((t) => option(t.short, t.kind === "object" ? "class" : "type", t.name))];
      return {from: wordFrom, options, validFor: /^\w*$/};
    }
    if (frame.type && last && (last.text === "{" || last.text === ",")) {
      return {from: wordFrom, options: pointerOptions(index, frame.type, frame.stmt),
        validFor: /^\w*$/};
    }
    const options = [
      ...(data.keywords || []).map((k) => option(k, "keyword")),
      ...(data.types || []).map((t) => option(t.short, t.kind === "object" ? "class" : "type",
        t.name, t.kind === "object" ? 2 : 1)),
      ...(data.modules || []).map((m) => option(m, "namespace", "module")),
      ...(data.functions || []).map((f) => option(f.short, "function", f.signature)),
    ];
    return {from: wordFrom, options, validFor: /^\w*$/};
  };
}

// The tree as Python sends it (ecc/schema/completions.py `wire_tree`: pointers as arrays indexing one
// `strings` list) back in the layout this module reads: {name, kind, target, card,
// link_props?} objects. A tree without `strings` is already in that layout.
export function expandTree(wire) {
  if (!wire || !Array.isArray(wire.strings)) return wire || {};
  const s = wire.strings;
  // fromEntries, not assignment: a type named like "__proto__" stays a plain own key.
  const objects = Object.fromEntries(Object.entries(wire.objects || {}).map(([type, rows]) =>
    [type, rows.map((row) => {
      const pointer = {name: row[0], kind: s[row[1]], target: s[row[2]], card: s[row[3]]};
      if (row.length > 4) pointer.link_props = row[4].map(([name, t]) => ({name, target: s[t]}));
      return pointer;
    })]));
  const {strings: _strings, ...rest} = wire;
  return {...rest, objects};
}
