// The console's EdgeQL editor as a Streamlit components-v2 module: a thin adapter between
// CodeMirror 6 and the data Python sends (ecc/completions.py builds it).
//
// data: {text, version, label, placeholder, debounce_ms, max_chars, language, completion}
// state value `text`: the document, sent after a pause in typing and on blur.
// trigger value `run`: {text}, on Ctrl/Cmd+Enter.
// Python bumps `version` when something else (history, a shared link, the schema explorer)
// wrote the text; only then does the editor replace its document.
import {EditorState, Compartment} from "@codemirror/state";
import {EditorView, keymap, lineNumbers, highlightActiveLine, drawSelection,
  placeholder as placeholderExt, highlightSpecialChars} from "@codemirror/view";
import {defaultKeymap, history, historyKeymap, indentWithTab} from "@codemirror/commands";
import {bracketMatching, indentOnInput, syntaxHighlighting} from "@codemirror/language";
import {autocompletion, closeBrackets, closeBracketsKeymap, completionKeymap}
  from "@codemirror/autocomplete";
import {edgeqlLanguage, edgeqlHighlighter} from "./edgeql.js";
import {edgeqlCompletionSource} from "./complete.js";

const editors = new WeakMap();

class Editor {
  constructor(root) {
    this.root = root;
    this.api = null;
    this.data = {};
    this.version = null;
    this.sent = null;
    this.timer = null;
    this.language = new Compartment();
    this.chrome = new Compartment();
    this.host = document.createElement("div");
    this.host.className = "eq-editor";
    this.note = document.createElement("div");
    this.note.className = "eq-note";
    this.note.setAttribute("aria-live", "polite");
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
        {key: "Mod-Enter", run: () => { this.run(); return true; }, preventDefault: true},
        ...closeBracketsKeymap, ...completionKeymap, ...historyKeymap, ...defaultKeymap,
        indentWithTab,
      ]),
      this.language.of([]),
      this.chrome.of([]),
      EditorView.updateListener.of((update) => {
        if (update.docChanged) { this.showLength(); this.schedule(); }
      }),
      EditorView.domEventHandlers({blur: () => { this.flush(); }}),
    ];
  }

  completionData() {
    const lang = this.data.language || {};
    return {...(this.data.completion || {}), keywords: lang.keywords || [],
      builtin_types: lang.builtin_types || []};
  }

  update(component) {
    this.api = component;
    const data = component.data || {};
    const previous = this.data;
    this.data = data;
    if (previous.language !== data.language && JSON.stringify(previous.language) !==
        JSON.stringify(data.language)) {
      const lang = data.language || {};
      const types = [...(lang.builtin_types || []), ...((data.completion || {}).type_names || [])];
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
    // A new version replaces the document (null text: Python did not echo an over-long
    // text back; the document stays).
    if (data.version !== this.version && typeof data.text === "string") {
      this.version = data.version;
      const text = data.text;
      if (text !== this.view.state.doc.toString()) {
        this.view.dispatch({changes: {from: 0, to: this.view.state.doc.length, insert: text}});
      }
      clearTimeout(this.timer);
      this.send(text);
    }
    this.showLength();
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
