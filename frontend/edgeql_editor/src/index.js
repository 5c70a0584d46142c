// The console's EdgeQL editor as a Streamlit components-v2 module: a thin adapter between
// CodeMirror 6 and the data Python sends (ecc/schema/completions.py builds it).
//
// data: {id, text, version, label, placeholder, debounce_ms, max_chars, language, completion}
//   completion: {params, hash, tree?}: the schema's tree comes once per page, by its hash.
// state values: `text`, the document, sent after a pause in typing and on blur; `seen`, the
//   version the editor shows (Python stops sending the text once it is acknowledged);
//   `schema`, the hash of the completion tree the page holds ("" when it lacks the announced
//   one; Python stops sending the tree once a hash is acknowledged).
// trigger value `run`: {text}, on Ctrl/Cmd+Enter.
// Python bumps `version` when something else (history, a shared link, the schema explorer)
// wrote the text; only then does the editor replace its document.
import {EditorState, Compartment} from "@codemirror/state";
import {EditorView, keymap, lineNumbers, highlightActiveLine, drawSelection,
  placeholder as placeholderExt, highlightSpecialChars} from "@codemirror/view";
import {defaultKeymap, history, historyKeymap, indentWithTab} from "@codemirror/commands";
import {bracketMatching, indentOnInput, syntaxHighlighting} from "@codemirror/language";
import {autocompletion, closeBrackets, closeBracketsKeymap, closeCompletion, completionKeymap}
  from "@codemirror/autocomplete";
import {edgeqlLanguage, edgeqlHighlighter} from "./edgeql.js";
import {edgeqlCompletionSource, expandTree} from "./complete.js";
// The stylesheet travels in this module (build.mjs loads .css as text), not in every editor's
// element: each element would carry its 3 KB again on every change of the editor's data.
import styles from "./editor.css";

const editors = new WeakMap();
// The document of each editor (by its Python key) outlives a remount (e.g. the tab layout
// changes): a new editor for a version it already showed takes the document from here.
const documents = new Map();
// The schemas' completion trees by hash, shared by every editor of the page (a 2000-type
// schema's tree is ~5 MB: one copy, received once). The few most recent are kept.
const schemaTrees = new Map();
const KEPT_TREES = 4;

function keepTree(hash, tree) {
  schemaTrees.delete(hash);
  schemaTrees.set(hash, tree);
  while (schemaTrees.size > KEPT_TREES) schemaTrees.delete(schemaTrees.keys().next().value);
}

function treeOf(completion) {
  return (completion && completion.hash && schemaTrees.get(completion.hash)) || {};
}

class Editor {
  constructor(root) {
    this.root = root;
    this.api = null;
    this.data = {};
    this.version = null;
    this.sent = null;
    this.seen = null;
    this.schema = null;
    this.timer = null;
    this.language = new Compartment();
    this.chrome = new Compartment();
    this.host = document.createElement("div");
    this.host.className = "eq-editor";
    this.note = document.createElement("div");
    this.note.className = "eq-note";
    this.note.setAttribute("aria-live", "polite");
    this.style = document.createElement("style");
    this.style.textContent = styles;
    root.appendChild(this.style);
    root.appendChild(this.host);
    root.appendChild(this.note);
    this.view = new EditorView({
      parent: this.host,
      root: root instanceof ShadowRoot ? root : undefined,
      state: EditorState.create({doc: "", extensions: this.extensions()}),
    });
  }

  extensions() {
    return [
      lineNumbers(),
      highlightSpecialChars(),
      history(),
      drawSelection(),
      indentOnInput(),
      bracketMatching(),
      closeBrackets(),
      highlightActiveLine(),
      autocompletion({override: [edgeqlCompletionSource(() => this.completionData())],
        activateOnTyping: true, icons: false}),
      syntaxHighlighting(edgeqlHighlighter),
      keymap.of([
        // A run closes the completion list: it would otherwise cover the editor until the
        // next keystroke.
        {key: "Mod-Enter", run: (view) => { closeCompletion(view); this.run(); return true; },
          preventDefault: true},
        ...closeBracketsKeymap, ...completionKeymap, ...historyKeymap, ...defaultKeymap,
        indentWithTab,
      ]),
      this.language.of([]),
      this.chrome.of([]),
      EditorView.updateListener.of((update) => {
        if (update.docChanged) { this.keep(); this.showLength(); this.schedule(); }
      }),
      EditorView.domEventHandlers({blur: () => { this.flush(); }}),
    ];
  }

  completionData() {
    const lang = this.data.language || {};
    const completion = this.data.completion || {};
    return {...treeOf(completion), params: completion.params || [],
      keywords: lang.keywords || [], builtin_types: lang.builtin_types || []};
  }

  // Keep a tree that came with the data; tell Python which one the page holds.
  takeTree(completion) {
    if (!completion || !completion.hash) return;
    if (completion.tree) keepTree(completion.hash, expandTree(completion.tree));
    const held = schemaTrees.has(completion.hash) ? completion.hash : "";
    if (this.schema !== held) {
      this.schema = held;
      this.setState("schema", held);
    }
  }

  update(component) {
    this.api = component;
    const data = component.data || {};
    const previous = this.data;
    this.data = data;
    this.takeTree(data.completion);
    const schemaChanged = (previous.completion || {}).hash !== (data.completion || {}).hash;
    if (schemaChanged || (previous.language !== data.language &&
        JSON.stringify(previous.language) !== JSON.stringify(data.language))) {
      const lang = data.language || {};
      const types = [...(lang.builtin_types || []), ...(treeOf(data.completion).type_names || [])];
      this.view.dispatch({effects: this.language.reconfigure(
        edgeqlLanguage(lang.keywords || [], types))});
    }
    if (previous.label !== data.label || previous.placeholder !== data.placeholder) {
      this.view.dispatch({effects: this.chrome.reconfigure([
        EditorView.contentAttributes.of({"aria-label": data.label || "EdgeQL",
          "aria-multiline": "true", "role": "textbox"}),
        placeholderExt(data.placeholder || ""),
      ])});
    }
    // A new version with its text replaces the document.
    if (typeof data.text === "string" && data.version !== this.version) {
      this.replace(data.text, data.version);
    } else if (this.version === null) {
      // A new editor without text: the same editor before a remount showed this version.
      const kept = documents.get(data.id);
      if (kept && kept.version === data.version) {
        this.version = data.version;
        this.sent = kept.sent;
        this.seen = data.version;
        this.view.dispatch({changes: {from: 0, to: this.view.state.doc.length,
          insert: kept.doc}});  // unsent typing from before the remount goes out debounced
      } else {
        this.setState("seen", null); // unknown here: ask Python for the text again
      }
    }
    this.showLength();
  }

  replace(text, version) {
    this.version = version;
    if (text !== this.view.state.doc.toString()) {
      this.view.dispatch({changes: {from: 0, to: this.view.state.doc.length, insert: text}});
    }
    clearTimeout(this.timer);
    this.keep();
    this.send(text);
    if (this.seen !== version) {
      this.seen = version;
      this.setState("seen", version);
    }
  }

  keep() {
    if (this.data.id) {
      documents.set(this.data.id, {doc: this.view.state.doc, version: this.version,
        sent: this.sent});
    }
  }

  setState(name, value) {
    if (this.api) this.api.setStateValue(name, value);
  }

  showLength() {
    const max = this.data.max_chars || 0;
    const length = this.view.state.doc.length;
    const over = max && length > max;
    this.host.classList.toggle("eq-over", Boolean(over));
    this.note.textContent = over
      ? `${length.toLocaleString()} characters: over the limit of ${max.toLocaleString()}. ` +
        "Shorten the query; it will not run." : "";
  }

  schedule() {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.flush(), this.data.debounce_ms || 300);
  }

  send(text) {
    if (text === this.sent || !this.api) return;
    this.sent = text;
    this.keep();
    this.api.setStateValue("text", text);
  }

  flush() {
    clearTimeout(this.timer);
    this.send(this.view.state.doc.toString());
  }

  run() {
    this.flush();
    if (this.api) this.api.setTriggerValue("run", {text: this.view.state.doc.toString()});
  }

  destroy() {
    clearTimeout(this.timer);
    this.view.destroy();
    this.host.remove();
    this.note.remove();
    this.style.remove();
  }
}

export default function mount(component) {
  const root = component.parentElement;
  let editor = editors.get(root);
  if (!editor) {
    editor = new Editor(root);
    editors.set(root, editor);
  }
  editor.update(component);
  // Streamlit may call a stale cleanup when a rerun overtakes a mount; only a root that left
  // the page ends the editor (and with it the user's unsent text).
  return () => setTimeout(() => {
    const host = root.host || root;
    if (!host.isConnected && editors.get(root) === editor) {
      editor.destroy();
      editors.delete(root);
    }
  }, 0);
}
