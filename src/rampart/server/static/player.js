// Replays a recording's output into a read-only terminal with its timing; it never sends anything.

const MAX_GAP_S = 2;
const SIZE = /^([0-9]{1,4})x([0-9]{1,4})$/;

function clampSize(value, fallback) {
  return Number.isInteger(value) && value >= 2 && value <= 1000 ? value : fallback;
}

export function terminalSize(header) {
  const h = header && typeof header === "object" ? header : {};
  return { cols: clampSize(h.width, 80), rows: clampSize(h.height, 24) };
}

// Only well-formed [t, code, data] events the player understands.
export function playableEvents(events) {
  if (!Array.isArray(events)) return [];
  return events.filter(
    (e) =>
      Array.isArray(e) &&
      e.length >= 3 &&
      Number.isFinite(e[0]) &&
      (e[1] === "o" || e[1] === "r") &&
      typeof e[2] === "string",
  );
}

export class Player {
  // events: { status(text), state(playing: bool) }
  constructor(term, events, hooks) {
    this.term = term;
    this.events = playableEvents(events);
    this.hooks = hooks;
    this.index = 0;
    this.speed = 1;
    this.timer = null;
    this.playing = false;
  }

  play() {
    if (this.index >= this.events.length) this.rewind();
    this.playing = true;
    this.hooks.state(true);
    this.hooks.status("playing");
    this.schedule(0);
  }

  pause() {
    clearTimeout(this.timer);
    this.playing = false;
    this.hooks.state(false);
    this.hooks.status("paused");
  }

  toggle() {
    if (this.playing) this.pause();
    else this.play();
  }

  setSpeed(speed) {
    this.speed = speed > 0 ? speed : 1;
  }

  rewind() {
    this.term.reset();
    this.index = 0;
  }

  schedule(delayMs) {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.step(), delayMs);
  }

  step() {
    if (!this.playing) return;
    this.apply(this.events[this.index]);
    this.index += 1;
    if (this.index >= this.events.length) return this.finished();
    const gap = this.events[this.index][0] - this.events[this.index - 1][0];
    this.schedule((Math.min(Math.max(gap, 0), MAX_GAP_S) * 1000) / this.speed);
  }

  apply(event) {
    if (event === undefined) return;
    if (event[1] === "o") this.term.write(event[2]);
    else this.resize(event[2]);
  }

  resize(text) {
    const match = SIZE.exec(text);
    if (match) this.term.resize(clampSize(Number(match[1]), this.term.cols), clampSize(Number(match[2]), this.term.rows));
  }

  finished() {
    this.playing = false;
    this.hooks.state(false);
    this.hooks.status("finished");
  }

  stop() {
    clearTimeout(this.timer);
    this.playing = false;
  }
}
