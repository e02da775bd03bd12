// One xterm.js terminal in a container, with the fit addon and the CSP-safe style mirror.

import { Terminal } from "./vendor/xterm/xterm.mjs";
import { FitAddon } from "./vendor/xterm/addon-fit.mjs";
import { mirrorTerminalStyles } from "./xtermstyle.js";

const BASE_OPTIONS = {
  fontFamily: "ui-monospace, 'DejaVu Sans Mono', 'Liberation Mono', monospace",
  fontSize: 14,
  scrollback: 5000,
  allowProposedApi: false,
};

export function openTerminal(container, options = {}) {
  container.replaceChildren();
  const term = new Terminal({ ...BASE_OPTIONS, ...options });
  const fit = new FitAddon();
  term.loadAddon(fit);
  term.open(container);
  const stopMirror = mirrorTerminalStyles(container);
  const dispose = () => {
    stopMirror();
    term.dispose();
    container.replaceChildren();
  };
  return { term, fit, dispose };
}

// Control characters from text that is about to be written into a terminal become "?".
export function printable(text, limit = 200) {
  return String(text).replace(/[\u0000-\u001f\u007f-\u009f]/g, "?").slice(0, limit);
}

// The whole buffer of a terminal as text, one line per row (used by status checks and tests).
export function bufferText(term) {
  const buffer = term.buffer.active;
  const lines = [];
  for (let row = 0; row < buffer.length; row++) {
    const line = buffer.getLine(row);
    if (line) lines.push(line.translateToString(true));
  }
  return lines.join("\n");
}
