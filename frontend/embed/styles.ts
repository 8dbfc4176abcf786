/** The embedded chat's styles, inside its shadow root: the host page's CSS does not reach
 * them, and they do not reach the page. Light by default; dark when the page's visitor
 * prefers it, unless data-theme says otherwise. */
export const STYLES = `
:host {
  all: initial;
  --accent: #4f46e5;
  --accent-text: #ffffff;
  --surface: #ffffff;
  --surface-2: #f1f5f9;
  --text: #0f172a;
  --muted: #64748b;
  --border: #e2e8f0;
  --user: #4f46e5;
  --user-text: #ffffff;
  --danger: #b91c1c;
  --shadow: 0 12px 40px rgba(15, 23, 42, 0.18), 0 2px 8px rgba(15, 23, 42, 0.08);
  --focus: #818cf8;
  position: fixed;
  right: 20px;
  bottom: 20px;
  z-index: 2147483000;
  font-family: system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif;
  font-size: 14px;
  line-height: 1.5;
  color: var(--text);
  color-scheme: light;
}
:host([data-theme="dark"]) {
  --accent: #818cf8;
  --accent-text: #0b1020;
  --surface: #0f172a;
  --surface-2: #1e293b;
  --text: #e2e8f0;
  --muted: #94a3b8;
  --border: #334155;
  --user: #6366f1;
  --user-text: #ffffff;
  --danger: #fca5a5;
  --shadow: 0 12px 40px rgba(0, 0, 0, 0.5);
  --focus: #a5b4fc;
  color-scheme: dark;
}
@media (prefers-color-scheme: dark) {
  :host(:not([data-theme="light"])) {
    --accent: #818cf8;
    --accent-text: #0b1020;
    --surface: #0f172a;
    --surface-2: #1e293b;
    --text: #e2e8f0;
    --muted: #94a3b8;
    --border: #334155;
    --user: #6366f1;
    --user-text: #ffffff;
    --danger: #fca5a5;
    --shadow: 0 12px 40px rgba(0, 0, 0, 0.5);
    --focus: #a5b4fc;
    color-scheme: dark;
  }
}
*, *::before, *::after { box-sizing: border-box; }
button { font: inherit; cursor: pointer; }
:focus-visible { outline: 3px solid var(--focus); outline-offset: 2px; }
.launcher {
  display: grid;
  place-items: center;
  width: 56px;
  height: 56px;
  margin-left: auto;
  border: 0;
  border-radius: 50%;
  background: var(--accent);
  color: var(--accent-text);
  box-shadow: var(--shadow);
  transition: transform 120ms ease;
}
.launcher:hover { transform: scale(1.05); }
.panel {
  display: flex;
  flex-direction: column;
  width: min(380px, calc(100vw - 40px));
  height: min(560px, calc(100vh - 110px));
  margin-bottom: 12px;
  overflow: hidden;
  border: 1px solid var(--border);
  border-radius: 16px;
  background: var(--surface);
  box-shadow: var(--shadow);
}
.panel[hidden] { display: none; }
header {
  display: flex;
  align-items: center;
  gap: 8px;
  padding: 12px 12px 12px 16px;
  border-bottom: 1px solid var(--border);
}
h2 { flex: 1; margin: 0; font-size: 15px; font-weight: 600; }
.icon {
  display: grid;
  place-items: center;
  width: 32px;
  height: 32px;
  border: 0;
  border-radius: 8px;
  background: transparent;
  color: var(--muted);
}
.icon:hover { background: var(--surface-2); color: var(--text); }
.log {
  flex: 1;
  display: flex;
  flex-direction: column;
  gap: 10px;
  padding: 16px;
  overflow-y: auto;
  overscroll-behavior: contain;
}
.greeting { margin: 0; color: var(--muted); }
.message {
  max-width: 88%;
  padding: 8px 12px;
  border-radius: 14px;
  white-space: pre-wrap;
  overflow-wrap: anywhere;
}
.message.user {
  align-self: flex-end;
  background: var(--user);
  color: var(--user-text);
  border-bottom-right-radius: 4px;
}
.message.assistant {
  align-self: flex-start;
  background: var(--surface-2);
  border-bottom-left-radius: 4px;
}
.message.assistant:not(.streaming) { white-space: normal; }
.text p, .text ul, .text ol, .text pre { margin: 0 0 6px; }
.text > :last-child, .text blockquote > :last-child { margin-bottom: 0; }
.text ul, .text ol { padding-left: 20px; }
.text blockquote { margin: 0 0 6px; max-height: none; overflow: visible; background: transparent; }
.text pre { padding: 6px 8px; border-radius: 6px; background: var(--surface); overflow-x: auto; white-space: pre; }
.text code { font-family: ui-monospace, SFMono-Regular, Menlo, monospace; font-size: 12.5px; }
.text a { color: var(--accent); }
.message.streaming .text::after { content: "▍"; margin-left: 1px; opacity: 0.6; }
.message.failed { color: var(--danger); }
.sources { margin: 8px 0 0; padding: 0; list-style: none; font-size: 12px; white-space: normal; }
.sources li + li { margin-top: 4px; }
summary { cursor: pointer; color: var(--muted); }
summary:hover { color: var(--text); }
blockquote {
  margin: 4px 0 0;
  padding: 6px 8px;
  border-left: 3px solid var(--accent);
  border-radius: 4px;
  background: var(--surface);
  max-height: 140px;
  overflow-y: auto;
}
.status { min-height: 20px; margin: 0; padding: 0 16px; font-size: 12px; color: var(--muted); }
.status.problem { color: var(--danger); font-weight: 600; }
.composer {
  display: flex;
  align-items: flex-end;
  gap: 8px;
  margin: 8px 12px 4px;
  padding: 6px 6px 6px 12px;
  border: 1px solid var(--border);
  border-radius: 12px;
  background: var(--surface);
}
.composer:focus-within { border-color: var(--accent); }
textarea {
  flex: 1;
  min-height: 24px;
  max-height: 120px;
  padding: 4px 0;
  border: 0;
  resize: none;
  outline: none;
  background: transparent;
  color: var(--text);
  font: inherit;
}
textarea::placeholder { color: var(--muted); }
.send {
  display: grid;
  place-items: center;
  width: 34px;
  height: 34px;
  border: 0;
  border-radius: 9px;
  background: var(--accent);
  color: var(--accent-text);
}
.send:disabled { opacity: 0.5; cursor: default; }
.footer { margin: 0; padding: 4px 16px 10px; font-size: 11px; color: var(--muted); }
.sr {
  position: absolute;
  width: 1px;
  height: 1px;
  overflow: hidden;
  clip: rect(0 0 0 0);
  white-space: nowrap;
}
@media (prefers-reduced-motion: reduce) { .launcher { transition: none; } }
`;
