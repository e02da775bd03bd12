// The console: hash routes for log in, hosts, a live terminal, recordings and the player.
// Everything from the API reaches the page through textContent, never as markup.

import { ApiError, call, clearToken, setToken, token } from "./api.js";
import { LiveSession } from "./live.js";
import { Player, terminalSize } from "./player.js";
import { openTerminal, printable } from "./term.js";
import { utf8 } from "./records.js";

const VIEWS = ["login", "hosts", "terminal", "recordings", "player"];
let teardown = () => {};

// ---- small DOM helpers ----

function $(id) {
  return document.getElementById(id);
}

function cell(text) {
  const td = document.createElement("td");
  td.textContent = text === null || text === undefined ? "" : String(text);
  return td;
}

function buttonCell(label, onClick) {
  const td = document.createElement("td");
  const button = document.createElement("button");
  button.type = "button";
  button.textContent = label;
  button.addEventListener("click", onClick);
  td.append(button);
  return td;
}

function row(cells) {
  const tr = document.createElement("tr");
  tr.append(...cells);
  return tr;
}

function when(iso) {
  const date = typeof iso === "string" ? new Date(iso) : null;
  return date && !Number.isNaN(date.getTime()) ? date.toLocaleString() : "";
}

function show(name) {
  for (const view of VIEWS) $("view-" + view).hidden = view !== name;
  $("nav").hidden = name === "login";
}

function showError(id, error) {
  $(id).textContent = error ? error.message : "";
  if (error instanceof ApiError && error.status === 401) expireLogin();
}

function expireLogin() {
  clearToken();
  location.hash = "#/login";
  $("login-error").textContent = "Your login expired; log in again.";
}

// ---- log in / out ----

function loginBody() {
  const body = { username: $("login-user").value, password: $("login-password").value };
  const code = $("login-totp").value.trim();
  if (code) body.totp = code;
  return body;
}

async function logIn(event) {
  event.preventDefault();
  $("login-error").textContent = "";
  try {
    const answer = await call("POST", "/auth/login", loginBody());
    setToken(answer.token);
    $("login-form").reset();
    go("#/hosts");
  } catch (error) {
    $("login-error").textContent = error.message;
  }
}

async function logOut() {
  try {
    await call("POST", "/auth/logout");
  } catch {
    // the token is forgotten either way
  }
  clearToken();
  go("#/login");
}

// ---- hosts ----

function tagsText(tags) {
  return Object.entries(tags || {})
    .map(([key, value]) => key + "=" + value)
    .join(" ");
}

function hostRow(host) {
  const status = cell(host.status);
  status.className = "state-" + String(host.status).replace(/[^a-z]/g, "");
  const open = buttonCell("Open terminal", () => go("#/terminal/" + encodeURIComponent(host.id)));
  return row([cell(host.hostname), status, cell(tagsText(host.tags)), open]);
}

async function showHosts() {
  show("hosts");
  showError("hosts-error", null);
  try {
    const hosts = await call("GET", "/hosts");
    $("hosts-body").replaceChildren(...hosts.map(hostRow));
  } catch (error) {
    showError("hosts-error", error);
  }
}

// ---- live terminal ----

function setTerminalStatus(text) {
  $("terminal-status").textContent = text;
}

function startLive(info, opened) {
  const session = new LiveSession(info.id, opened.term, {
    status: setTerminalStatus,
    ended: (reason) => setTerminalStatus("ended: " + printable(reason)),
  });
  opened.term.onData((text) => session.input(utf8(text)));
  opened.term.onBinary((text) => session.input(Uint8Array.from(text, (c) => c.charCodeAt(0) & 0xff)));
  opened.term.onResize(({ cols, rows }) => session.sendResize(cols, rows));
  $("terminal-terminate").onclick = () => terminate(info.id);
  window.rampartSession = session;
  session.start();
  return session;
}

async function terminate(sessionId) {
  try {
    await call("POST", "/sessions/" + encodeURIComponent(sessionId) + "/terminate");
  } catch (error) {
    showError("terminal-error", error);
  }
}

async function showTerminal(hostRef) {
  show("terminal");
  showError("terminal-error", null);
  $("terminal-title").textContent = hostRef;
  setTerminalStatus("starting");
  const opened = openTerminal($("terminal"), { cursorBlink: true });
  const refit = () => opened.fit.fit();
  refit();
  window.addEventListener("resize", refit);
  let session = null;
  let gone = false;
  teardown = () => {
    gone = true;
    window.removeEventListener("resize", refit);
    if (session) session.detach();
    opened.dispose();
  };
  window.rampartTerm = opened.term;
  const body = { host: hostRef, kind: "shell", cols: opened.term.cols, rows: opened.term.rows, term: "xterm-256color" };
  try {
    const info = await call("POST", "/sessions", body);
    if (gone) return;
    $("terminal-title").textContent = (info.login || "") + "@" + (info.hostname || hostRef);
    session = startLive(info, opened);
    opened.term.focus();
  } catch (error) {
    setTerminalStatus("not started");
    showError("terminal-error", error);
  }
}

// ---- recordings ----

function sessionState(info) {
  if (info.active) return "active";
  return info.end_reason || "ended";
}

function recordingRow(info) {
  const replay = buttonCell("Replay", () => go("#/replay/" + encodeURIComponent(info.id)));
  return row([
    cell(when(info.started_at)),
    cell(info.hostname),
    cell(info.user),
    cell(info.kind),
    cell(info.login),
    cell(sessionState(info)),
    replay,
  ]);
}

async function showRecordings() {
  show("recordings");
  showError("recordings-error", null);
  try {
    const answer = await call("GET", "/sessions");
    $("recordings-body").replaceChildren(...(answer.sessions || []).map(recordingRow));
  } catch (error) {
    showError("recordings-error", error);
  }
}

// ---- player ----

function showVerified(verified) {
  const badge = $("player-verified");
  badge.textContent = verified === true ? "verified" : "NOT verified";
  badge.className = "badge " + (verified === true ? "ok" : "bad");
}

function playerControls(player) {
  $("player-toggle").onclick = () => player.toggle();
  $("player-speed").value = "1";
  $("player-speed").onchange = () => player.setSpeed(Number($("player-speed").value));
}

function startPlayer(recording) {
  const opened = openTerminal($("player"), { ...terminalSize(recording.header), disableStdin: true, cursorBlink: false });
  const player = new Player(opened.term, recording.events, {
    status: (text) => ($("player-status").textContent = text),
    state: (playing) => ($("player-toggle").textContent = playing ? "Pause" : "Play"),
  });
  playerControls(player);
  window.rampartPlayer = player;
  window.rampartPlayerTerm = opened.term;
  return { player, opened };
}

async function showReplay(sessionId) {
  show("player");
  showError("player-error", null);
  $("player-title").textContent = sessionId;
  $("player-verified").textContent = "";
  $("player-status").textContent = "loading";
  try {
    const path = "/sessions/" + encodeURIComponent(sessionId) + "/recording?sanitize=true";
    const recording = await call("GET", path);
    const { player, opened } = startPlayer(recording);
    teardown = () => {
      player.stop();
      opened.dispose();
    };
    showVerified(recording.verified);
    const info = recording.session || {};
    $("player-title").textContent = [info.hostname, info.login, when(info.started_at)].filter(Boolean).join(" ");
    player.play();
  } catch (error) {
    $("player-status").textContent = "";
    showError("player-error", error);
  }
}

// ---- routing ----

const ROUTES = [
  [/^#\/hosts$/, showHosts],
  [/^#\/terminal\/([^/]+)$/, showTerminal],
  [/^#\/recordings$/, showRecordings],
  [/^#\/replay\/([^/]+)$/, showReplay],
];

function go(hash) {
  if (location.hash === hash) route();
  else location.hash = hash;
}

function decodedParts(match) {
  try {
    return match.slice(1).map(decodeURIComponent);
  } catch {
    return null;
  }
}

function route() {
  teardown();
  teardown = () => {};
  if (!token()) return show("login");
  const hash = location.hash || "#/hosts";
  for (const [pattern, view] of ROUTES) {
    const match = pattern.exec(hash);
    const args = match ? decodedParts(match) : null;
    if (args) return view(...args);
  }
  go("#/hosts");
}

function init() {
  $("login-form").addEventListener("submit", logIn);
  $("logout").addEventListener("click", logOut);
  window.addEventListener("hashchange", route);
  route();
}

init();
