// Galaxy Assistant web widget: one <script> tag adds a chat launcher and panel to any page and talks to
// the Rasa socket.io channel (bot/channels/socketio.py). Settings come from data-attributes on the tag.
import { io } from "socket.io-client";
import css from "./widget.css";
import { renderText } from "./render.js";
import { ENDONYMS, LANGUAGES, STRINGS, direction, replyLanguage, supported } from "./i18n.js";

const MAX_HISTORY = 200;
const TYPING_TIMEOUT_MS = 30000;

// Captured now: document.currentScript is only set while this file first runs.
const scriptTag = document.currentScript || document.querySelector('script[src*="galaxy-widget"]');

function readSettings(tag) {
  const data = (tag && tag.dataset) || {};
  const src = tag && tag.src ? new URL(tag.src, location.href) : new URL(location.href);
  return {
    serverUrl: (data.serverUrl || src.origin).replace(/\/$/, ""),
    socketPath: data.socketPath || "/socket.io/",
    title: data.title || "Galaxy Assistant",
    startPayload: data.startPayload || "",
    open: data.open === "true",
    storageKey: data.storageKey || "galaxy-widget",
    placeholder: data.placeholder || "",
    // Interface language until the user picks one or the assistant answers in one: the page's choice,
    // else the browser's, else English.
    language: supported(data.language) || supported(navigator.language) || "en",
  };
}

// localStorage can be unavailable (privacy modes, sandboxed frames): the widget then forgets on reload.
class ConversationStore {
  constructor(key) {
    this.key = key;
    this.state = { sessionId: null, messages: [], started: false, open: false, language: null };
    try {
      Object.assign(this.state, JSON.parse(localStorage.getItem(key) || "{}"));
    } catch (_) {
      /* keep the empty state */
    }
  }

  save() {
    this.state.messages = this.state.messages.slice(-MAX_HISTORY);
    try {
      localStorage.setItem(this.key, JSON.stringify(this.state));
    } catch (_) {
      /* storage full or blocked: the conversation still works in this page */
    }
  }
}

function element(tag, attributes = {}, children = []) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (name === "text") node.textContent = value;
    else if (value !== false && value !== null && value !== undefined) node.setAttribute(name, value === true ? "" : value);
  }
  for (const child of children) node.append(child);
  return node;
}

// An inline SVG: emoji glyphs are missing on some systems (no colour-emoji font).
function chatIcon() {
  const ns = "http://www.w3.org/2000/svg";
  const svg = document.createElementNS(ns, "svg");
  svg.setAttribute("viewBox", "0 0 24 24");
  svg.setAttribute("aria-hidden", "true");
  svg.setAttribute("focusable", "false");
  const path = document.createElementNS(ns, "path");
  path.setAttribute("d", "M4 3h16a2 2 0 0 1 2 2v10a2 2 0 0 1-2 2H10l-5 4v-4H4a2 2 0 0 1-2-2V5a2 2 0 0 1 2-2z");
  path.setAttribute("fill", "currentColor");
  svg.append(path);
  return svg;
}

function announce(kind, detail) {
  // Lets the embedding page (and the benchmark) observe the conversation without reaching into the widget.
  window.dispatchEvent(new CustomEvent(`galaxy-widget:${kind}`, { detail: { ...detail, at: performance.now() } }));
}

class GalaxyWidget {
  constructor(settings) {
    this.settings = settings;
    this.store = new ConversationStore(`${settings.storageKey}@${settings.serverUrl}`);
    this.socket = null;
    this.ready = false;
    this.outbox = [];
    this.typingTimer = null;
  }

  get language() {
    return this.store.state.language || this.settings.language;
  }

  get strings() {
    return STRINGS[this.language] || STRINGS.en;
  }

  mount() {
    const host = element("div", { id: "galaxy-widget-host" });
    const root = host.attachShadow({ mode: "open" });
    const style = element("style", { text: css });
    this.launcher = element("button", {
      type: "button", class: "launcher", "aria-controls": "gw-panel", "aria-expanded": "false",
    }, [chatIcon()]);
    this.status = element("p", { class: "status", role: "status" });
    this.log = element("div", {
      class: "log", role: "log", "aria-live": "polite", tabindex: "0",
    });
    this.typingLabel = element("span", { class: "sr-only" });
    this.typing = element("div", { class: "typing", hidden: true }, [
      this.typingLabel,
      element("span", { class: "dot", "aria-hidden": "true" }),
      element("span", { class: "dot", "aria-hidden": "true" }),
      element("span", { class: "dot", "aria-hidden": "true" }),
    ]);
    this.input = element("input", {
      id: "gw-input", type: "text", dir: "auto", autocomplete: "off", maxlength: "3000",
    });
    this.inputLabel = element("label", { for: "gw-input", class: "sr-only" });
    this.sendButton = element("button", { type: "submit", class: "send" });
    const form = element("form", { class: "composer" }, [this.inputLabel, this.input, this.sendButton]);
    this.closeButton = element("button", { type: "button", class: "close", text: "×" });
    const close = this.closeButton;
    // The language selector: the interface follows at once, the assistant after a /switch_language turn.
    this.languageSelect = element("select", { class: "language" },
      LANGUAGES.map((code) => element("option", { value: code, lang: code, text: ENDONYMS[code] })));
    this.languageSelect.addEventListener("change", () => this.chooseLanguage(this.languageSelect.value));
    this.panel = element("section", {
      id: "gw-panel", class: "panel", role: "dialog", hidden: true,
    }, [
      element("header", {}, [element("h2", { text: this.settings.title }), this.languageSelect, close]),
      this.status,
      this.log,
      this.typing,
      form,
    ]);
    root.append(style, this.panel, this.launcher);
    document.body.append(host);

    this.launcher.addEventListener("click", () => (this.panel.hidden ? this.open() : this.close()));
    close.addEventListener("click", () => this.close());
    this.panel.addEventListener("keydown", (event) => {
      if (event.key === "Escape") this.close();
    });
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      const text = this.input.value.trim();
      if (!text) return;
      this.input.value = "";
      this.sendUser(text, text);
    });

    this.applyLanguage();
    for (const entry of this.store.state.messages) this.renderEntry(entry);
    if (!this.store.state.messages.length) this.showEmptyHint();
    if (this.settings.open || this.store.state.open) this.open({ focus: false });
  }

  open({ focus = true } = {}) {
    this.panel.hidden = false;
    this.launcher.setAttribute("aria-expanded", "true");
    this.launcher.setAttribute("aria-label", `${this.strings.close}: ${this.settings.title}`);
    this.launcher.classList.remove("unread");
    this.store.state.open = true;
    this.store.save();
    this.connect(); // lazily: pages where nobody opens the chat cost the server nothing
    this.scrollToEnd();
    if (focus) this.input.focus();
  }

  close() {
    this.panel.hidden = true;
    this.launcher.setAttribute("aria-expanded", "false");
    this.launcher.setAttribute("aria-label", `${this.strings.open}: ${this.settings.title}`);
    this.store.state.open = false;
    this.store.save();
    this.launcher.focus();
  }

  // Interface strings and direction of the panel in the current language.
  applyLanguage() {
    const s = this.strings;
    const rtl = this.language === "ar";
    this.panel.setAttribute("dir", rtl ? "rtl" : "ltr");
    this.panel.setAttribute("lang", this.language);
    this.panel.setAttribute("aria-label", `${this.settings.title} ${s.chat}`);
    const opened = !this.panel.hidden;
    this.launcher.setAttribute("aria-label", `${opened ? s.close : s.open}: ${this.settings.title}`);
    this.log.setAttribute("aria-label", s.conversation);
    this.typingLabel.textContent = `${this.settings.title} ${s.typing}`;
    this.input.setAttribute("placeholder", this.settings.placeholder || s.placeholder);
    this.inputLabel.textContent = s.yourMessage;
    this.sendButton.textContent = s.send;
    this.closeButton.setAttribute("aria-label", s.close);
    this.languageSelect.setAttribute("aria-label", s.language);
    this.languageSelect.value = this.language;
    const hint = this.log.querySelector(".empty");
    if (hint) hint.textContent = s.empty;
  }

  setLanguage(code) {
    const language = supported(code);
    if (!language || language === this.language) return;
    this.store.state.language = language;
    this.store.save();
    this.applyLanguage();
  }

  chooseLanguage(code) {
    const language = supported(code);
    if (!language) return;
    this.setLanguage(language);
    this.store.state.language = language; // chosen, even when it was already the browser's
    this.store.save();
    // Payload language-independent; the user sees the language's own name.
    this.sendUser(`/switch_language{"language":"${language}"}`, ENDONYMS[language]);
  }

  connect() {
    if (this.socket) return;
    this.setStatus(this.strings.connecting);
    this.socket = io(this.settings.serverUrl, { path: this.settings.socketPath, reconnectionDelayMax: 5000 });
    this.socket.on("connect", () => {
      // Also after every reconnect: joining the session's room again is what routes replies to this page.
      this.socket.emit("session_request", { session_id: this.store.state.sessionId });
    });
    this.socket.on("session_confirm", (confirmed) => this.onSessionConfirm(confirmed));
    this.socket.on("bot_uttered", (message) => this.onBotMessage(message));
    this.socket.on("disconnect", (reason) => {
      this.ready = false;
      this.hideTyping();
      this.setStatus(this.strings.lost);
      // The server closing the socket on purpose stops socket.io's own retries; keep trying anyway.
      if (reason === "io server disconnect") setTimeout(() => this.socket.connect(), 2000);
    });
    this.socket.on("connect_error", () => {
      this.ready = false;
      this.setStatus(this.strings.unreachable);
    });
  }

  onSessionConfirm(confirmed) {
    const sessionId = typeof confirmed === "string" ? confirmed : confirmed && confirmed.session_id;
    if (!sessionId) return;
    const state = this.store.state;
    // The server issues sessions: one it did not recognise was replaced, and its history belongs to nobody.
    if (state.sessionId && state.sessionId !== sessionId) this.forget();
    state.sessionId = sessionId;
    this.ready = true;
    this.setStatus("");
    if (!state.started) {
      state.started = true; // a start payload belongs to a new conversation only, never to a reload
      if (this.settings.startPayload) this.outbox.unshift(this.settings.startPayload);
    }
    this.store.save();
    announce("ready", { sessionId });
    const pending = this.outbox.splice(0);
    for (const text of pending) this.emitUser(text);
  }

  sendUser(payload, shownText) {
    const entry = { from: "user", text: shownText };
    this.store.state.messages.push(entry);
    this.store.save();
    this.renderEntry(entry);
    this.connect();
    if (this.ready) this.emitUser(payload);
    else this.outbox.push(payload); // sent once the session is confirmed, so the reply reaches this page
  }

  emitUser(payload) {
    this.socket.emit("user_uttered", { message: payload, session_id: this.store.state.sessionId });
    announce("sent", { text: payload });
    this.showTyping();
  }

  onBotMessage(message) {
    if (!message || typeof message !== "object") return;
    const custom = message.custom && typeof message.custom === "object" ? message.custom : message;
    if (custom.erase_history === true) {
      // "Delete my data": the server forgot this conversation, so does this browser; a new session follows.
      this.hideTyping();
      this.forget();
      this.store.state.sessionId = null;
      this.store.save();
      this.ready = false;
      if (this.socket) this.socket.emit("session_request", { session_id: null });
      announce("erased", {});
      return;
    }
    const entry = { from: "bot", data: message };
    this.store.state.messages.push(entry);
    this.store.save();
    this.hideTyping();
    // The interface follows the language the assistant answers in (it follows the user's messages).
    const language = message.text ? replyLanguage(message.text) : null;
    if (language) this.setLanguage(language);
    const bubble = this.renderEntry(entry);
    // Long replies (result lists) are read from their top, not their end.
    if (bubble.offsetHeight > this.log.clientHeight) this.log.scrollTop = bubble.offsetTop - 8;
    if (this.panel.hidden) this.launcher.classList.add("unread");
    announce("message", { text: message.text || "" });
  }

  forget() {
    const state = this.store.state;
    state.messages = [];
    state.started = false;
    this.store.save();
    this.log.replaceChildren();
    this.showEmptyHint();
  }

  renderEntry(entry) {
    const hint = this.log.querySelector(".empty");
    if (hint) hint.remove();
    const bubble = entry.from === "user" ? this.userBubble(entry.text) : this.botBubble(entry.data);
    this.log.append(bubble);
    this.scrollToEnd();
    return bubble;
  }

  userBubble(text) {
    return element("div", { class: "msg user", dir: "auto", text });
  }

  botBubble(message) {
    // The whole bubble takes the reply's direction (Arabic: right to left, buttons and cards included).
    const bubble = element("div", { class: "msg bot", dir: direction(message.text || ""), lang: (message.text && replyLanguage(message.text)) || false });
    if (message.text) bubble.append(renderText(message.text));
    const attachment = message.attachment;
    if (attachment && attachment.type === "image" && attachment.payload && /^https?:/.test(attachment.payload.src || "")) {
      bubble.append(element("img", { src: attachment.payload.src, alt: "", loading: "lazy" }));
    }
    const buttons = message.quick_replies || message.buttons || [];
    if (buttons.length) {
      const row = element("div", { class: "buttons" });
      for (const button of buttons) {
        const node = element("button", { type: "button", class: "choice", dir: "auto", text: button.title });
        node.addEventListener("click", () => this.sendUser(button.payload, button.title));
        row.append(node);
      }
      bubble.append(row);
    }
    return bubble;
  }

  showEmptyHint() {
    this.log.append(element("p", { class: "empty", text: this.strings.empty }));
  }

  showTyping() {
    this.typing.hidden = false;
    clearTimeout(this.typingTimer);
    this.typingTimer = setTimeout(() => this.hideTyping(), TYPING_TIMEOUT_MS);
    this.scrollToEnd();
  }

  hideTyping() {
    clearTimeout(this.typingTimer);
    this.typing.hidden = true;
  }

  setStatus(text) {
    this.status.textContent = text;
    this.status.hidden = !text;
  }

  scrollToEnd() {
    this.log.scrollTop = this.log.scrollHeight;
  }
}

function start() {
  const widget = new GalaxyWidget(readSettings(scriptTag));
  widget.mount();
  window.GalaxyWidget = { open: () => widget.open(), close: () => widget.close() };
}

if (document.body) start();
else document.addEventListener("DOMContentLoaded", start, { once: true });
