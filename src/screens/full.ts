// The full-screen views: the only file that touches blessed. It draws the laid-out screen of the
// wizard's state and turns keys into wizard events; it holds no protocol logic.
import * as blessed from 'blessed';
import type { ReadStream, WriteStream } from 'node:tty';
import { hotkeyState, scan } from '../session/hotkey';
import { keyToEvent, type FieldState } from './keys';
import { layout, tooSmall } from './layout';
import { columns, formatPlain, type WizardUI } from './plain';
import { screenFor, type ViewContext } from './view';
import type { WizardEvent, WizardState } from './wizard';

export interface FullOptions {
  input: ReadStream;
  output: WriteStream;
  term: string;
  utf8: boolean;
  context: () => ViewContext;
  dispatch: (e: WizardEvent) => void;
  /** Where whatever blessed writes to stderr goes (terminfo warnings), never the screen. */
  log: (text: string) => void;
}

export function fullUI(o: FullOptions): WizardUI {
  // blessed and its terminfo parser may complain on stderr: that must not land on the friend's
  // screen, so stderr goes to the log while the screens are up.
  const realWrite = process.stderr.write.bind(process.stderr);
  process.stderr.write = ((chunk: string | Uint8Array) => {
    o.log(chunk.toString());
    return true;
  }) as typeof process.stderr.write;
  // In UTF-8 blessed would still switch box-drawing characters to the terminal's alternate
  // character set; the ncurses variable below makes it write them as the UTF-8 they are. It is
  // set only while blessed reads the terminal's description, so the shared shell never sees it.
  const acsBefore = process.env.NCURSES_NO_UTF8_ACS;
  if (o.utf8) process.env.NCURSES_NO_UTF8_ACS = '1';
  const screen = blessed.screen({
    input: o.input,
    output: o.output,
    terminal: o.term,
    fullUnicode: o.utf8,
    forceUnicode: o.utf8,
    warnings: false,
    smartCSR: true,
    autoPadding: false,
    title: 'remote-help',
  });
  if (acsBefore === undefined) delete process.env.NCURSES_NO_UTF8_ACS;
  else process.env.NCURSES_NO_UTF8_ACS = acsBefore;
  const box = blessed.box({ top: 0, left: 0, width: '100%', height: '100%', tags: false, style: { fg: 'white', bg: 'blue' } });
  screen.append(box);
  let state: WizardState | null = null;
  let field: FieldState = { typed: '', selected: 0 };
  let stopped = false;
  let lastPlain = '';
  // Once the full screens are gone (the session has the terminal, or it is all over), what is
  // left to say is written as plain lines, so it stays on the terminal after remote-help exits.
  const writePlain = () => {
    if (!state) return;
    const text = formatPlain(screenFor(state, o.context()), state.ended !== null, columns(o.output));
    if (text !== lastPlain) o.output.write(text.replace(/\n/g, '\r\n'));
    lastPlain = text;
  };

  const draw = () => {
    if (!state || stopped) return;
    const ctx = o.context();
    const lines = layout(screenFor(state, ctx), {
      cols: screen.width as number,
      rows: screen.height as number,
      utf8: o.utf8,
      typed: field.typed,
      selected: field.selected,
      clock: state.step === 4 && !state.ended ? ctx.clock : undefined,
    });
    box.setContent(lines.join('\n'));
    screen.render();
  };
  const ticker = setInterval(() => state?.step === 4 && draw(), 1000);
  screen.on('resize', draw);
  screen.on('keypress', (ch: string | undefined, key: { name?: string; full?: string } | undefined) => {
    if (!state || stopped) return;
    const full = key?.full ?? '';
    const name = full === 'C-c' || full === 'M-C-c' ? full : (key?.name ?? '');
    // On a screen too small to read, keys would act on what nobody can see: only quitting works.
    if (tooSmall({ cols: screen.width as number, rows: screen.height as number }) && name !== 'C-c') return;
    const r = keyToEvent(state, field, { name, ch: ch && ch.length === 1 ? ch : undefined });
    const changed = r.field !== field;
    field = r.field;
    if (r.event) o.dispatch(r.event);
    else if (changed) draw();
  });

  // blessed does not report Ctrl-Alt-C (1b 03, or c2 83 / 83 with 8-bit meta) as a key: the
  // raw bytes are scanned, as in the session, so the hotkey that step 1 promises quits here too.
  let keys = hotkeyState({ utf8: o.utf8 });
  const onRaw = (chunk: Buffer | string) => {
    const r = scan(keys, Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk, 'latin1'));
    keys = r.state;
    if (r.kill && state && !stopped) o.dispatch({ type: 'quit' });
  };
  o.input.on('data', onRaw);

  return {
    render(s) {
      if (state && s.step !== state.step) field = { typed: '', selected: 0 };
      state = s;
      if (stopped) writePlain();
      else draw();
    },
    stop() {
      if (stopped) return;
      stopped = true;
      clearInterval(ticker);
      o.input.off('data', onRaw);
      screen.destroy();
      process.stderr.write = realWrite;
      if (state?.ended) writePlain();
    },
  };
}
