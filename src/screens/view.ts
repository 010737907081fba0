// What each numbered screen says, as plain data: a pure function of the wizard's state. The plain
// line renderer prints it; the full-screen views draw the same words.
import { formatDuration } from '../duration';
import { codeWords, spellCode } from '../net/sas';
import { bigText } from './bigfont';
import { TURNED_OFF } from '../policy';
import { asksName, dials, type WizardState } from './wizard';
import { seenLines } from './seen';

export interface Screen {
  step: number;
  title: string;
  lines: string[];
  /** The keys that work on this screen, in words (full-screen names; plain.ts renames a few). */
  keys: string;
  /** Numbered choices (step 2); the full-screen view marks the selected one. */
  choices?: string[];
  /** A text field on this screen, with its label ("Address: "). */
  input?: string;
  /** The code in big letters (step 5, friend). */
  big?: string[];
  /** The code one symbol a line, in words, after `lines[at]` (step 5, friend): the line mode shows
   * it, for reading by ear or by braille. */
  spelled?: { at: number; lines: string[] };
}

export interface ViewContext {
  /** This machine's addresses, for the side that waits. */
  addresses: string[];
  /** The port actually listened on (may differ from the requested one when it was 0). */
  listeningPort: number | null;
  /** Step 4's clock, e.g. "Waited 0:12. Gives up in 29:48." (full-screen only). */
  clock?: string;
  /** Said on the friend's step 3 when the address cannot be remembered (read-only disk). */
  memoryNote?: string | null;
  /** Said on the friend's step 5 when helpers are not remembered or recognised here. */
  helpersNote?: string | null;
  /** Now, in ms since the epoch (the golden screens pass a fixed one). */
  now?: number;
}

/** An address as it is read aloud over the phone: "192 dot 0 dot 2 dot 10". */
export function spoken(address: string): string {
  if (address.includes(':'))
    return address.split(':').map((g) => (g === '' ? '' : g.split('').join(' '))).join(', colon, ').replace(/(, colon, ){2,}/g, ', colon colon, ');
  return address.split('.').join(' dot ');
}

/** Time waited and time left, for step 4. */
export function clockText(now: number, startedAt: number, waitMs: number): string {
  return `Waited ${formatDuration(now - startedAt, 'clock')}. Gives up in ${formatDuration(startedAt + waitMs - now, 'clock')}.`;
}

const other = (s: WizardState) => (s.role === 'friend' ? 'helper' : 'friend');

export function screenFor(s: WizardState, ctx: ViewContext): Screen {
  if (s.ended) {
    return { step: s.step, title: 'Finished', lines: [s.ended.message, '', s.ended.next], keys: '' };
  }
  const problem = s.problem ? ['', `Problem: ${s.problem.message}`, s.problem.next] : [];
  switch (s.step) {
    case 1:
      return {
        step: 1,
        title: 'Welcome to remote-help',
        lines: [
          'This program lets someone help you fix this computer from far away.',
          'They will be able to type commands on this computer, and you will see everything.',
          '',
          'WARNING: only accept help from someone you trust and are talking to right now.',
          'Go on only with someone you asked for help yourself: real companies never call you to fix your computer.',
          ...(s.off.typing ? [`On this computer helpers can only watch: typing is ${TURNED_OFF}.`] : []),
          '',
          'You can end the session at any time with Ctrl-Alt-C or F12.',
        ],
        keys: 'Enter: continue   q: quit',
      };
    case 2:
      return {
        step: 2,
        title: 'Who are you?',
        lines: [],
        choices: ['1  I need help (my computer is the one to fix)', '2  I am helping someone'],
        keys: '1, 2, Up, Down: choose   Enter: go on   Esc: back   q: quit',
      };
    case 3:
      return details(s, ctx, problem);
    case 4:
      return {
        step: 4,
        title: 'Connecting',
        lines: [s.activity || 'Starting...'],
        keys: s.networkOffer ? 'n: start the network   Esc: cancel   q: quit' : 'Esc: cancel   q: quit',
      };
    case 5:
      return verify(s, ctx);
    case 6:
      return {
        step: 6,
        title: 'Starting the session',
        lines: s.role === 'friend' ? ['Starting the shared shell...', typingLine(s), ...desktopLine(s)] : ['Waiting for your friend\'s computer to start the shared shell...'],
        keys: s.role === 'friend' ? `v: who types${s.desktopAvailable ? '   d: screen' : ''}` : '',
      };
    case 7:
      return {
        step: 7,
        title: 'Connected',
        lines: s.role === 'friend'
          ? [s.helperMayType ? 'Your helper can now type on this computer. You see everything they do.'
            : 'Your helper can watch but not type. Ctrl-Alt-K lets them type.',
          'Ctrl-Alt-K takes the keyboard away from your helper, or gives it back.',
          ...(s.shareDesktop ? ['Your screen is shared too: the "End remote help" window on it also ends everything.'] : []),
          'To end the session at any time: press Ctrl-Alt-C or F12.']
          : ['You are in your friend\'s shell. Your friend sees everything you type.',
            'After Enter: ~m sends your friend a message, ~r redraws the screen, ~? lists these.',
            'To leave: press Enter, then type ~.'],
        keys: '',
      };
  }
}

function details(s: WizardState, ctx: ViewContext, problem: string[]): Screen {
  const reverseLine = s.reverse
    ? `Reverse connection: ON (the ${s.role === 'friend' ? 'helper connects to you' : 'helper connects to the friend'}).`
    : `Reverse connection: off (turn on if the ${s.role === 'friend' ? 'helper' : 'friend'} cannot accept connections).`;
  const firewall = dials(s) ? 'Firewall: nothing to open on this side (it connects out).'
    : s.off.firewall ? `Open the firewall port for me: ${TURNED_OFF}.` : s.openFirewall ? 'Open the firewall port for me: ON, for this session only (f: turn off).'
      : 'Open the firewall port for me: off (f: turn on if a firewall blocks it).';
  if (asksName(s)) {
    return {
      step: 3,
      title: 'Your name for your friends',
      lines: [
        'Type the name your friends will see when you help them, then press Enter.',
        'Use a name they know you by, like "Alex, your nephew".',
        ...(s.helperName ? [`Now: ${s.helperName}`] : []),
        ...problem,
      ],
      input: 'Name: ',
      keys: s.helperName ? 'Enter: done   Esc: back   Ctrl-C: quit' : 'Enter: go on   Esc: back   Ctrl-C: quit',
    };
  }
  const nameLine = s.role === 'helper' ? [`Your friend sees you as: ${s.helperName} (n: change).`] : [];
  if (dials(s) && s.wordNeeded) {
    return {
      step: 3,
      title: 'The one-time word',
      lines: [
        `Your helper meets you through the server ${s.address}.`,
        'Type the one-time word your helper reads out (like ABCD-EF12), then press Enter.',
        ...problem,
      ],
      input: 'One-time word: ',
      keys: 'Enter: connect   Esc: back   Ctrl-C: quit',
    };
  }
  if (dials(s)) {
    const who = other(s);
    return {
      step: 3,
      title: `Your ${who}'s address`,
      lines: [
        `Type the address your ${who} tells you, then press Enter.`,
        s.address ? `Last time: ${s.address} (press Enter to use it)` : 'Example: 192.0.2.10 or 192.0.2.10:2222',
        ...(ctx.memoryNote ? [ctx.memoryNote] : []),
        '',
        reverseLine,
        firewall,
        ...nameLine,
        ...problem,
      ],
      input: 'Address: ',
      keys: 'Enter: connect   Tab: reverse   Esc: back   Ctrl-C: quit',
    };
  }
  if (s.viaEditing) {
    return {
      step: 3,
      title: 'Meet at a server',
      lines: [
        'When neither of you can accept connections, both computers can meet at an SSH server you can log in to.',
        'Type it as you would to ssh: HOST, USER@HOST, USER@HOST:PORT or a Host of your ~/.ssh/config.',
        'Leave it empty to meet directly.',
        ...problem,
      ],
      input: 'Server: ',
      keys: 'Enter: done   Esc: back   Ctrl-C: quit',
    };
  }
  const meet = s.role !== 'helper' || s.reverse ? [] : s.off.meeting ? [`Meet at a server: ${TURNED_OFF}.`]
    : [s.via ? `Meet at a server: ${s.via} (s: change or turn off).` : 'Meet at a server: off (s: if neither of you can accept connections).'];
  if (s.via) {
    return {
      step: 3,
      title: `What to tell your ${other(s)}`,
      lines: [`Your ${other(s)} will connect through the server ${s.via}.`, 'The next step shows what to read to them.', '', ...meet, ...nameLine, ...problem],
      keys: 'Enter: wait   Esc: back   q: quit',
    };
  }
  const port = ctx.listeningPort ?? s.port;
  const addrs = ctx.addresses.length > 0 ? ctx.addresses : ['(no network address found: check the network)'];
  const allPrivate = ctx.addresses.every(isPrivate);
  return {
    step: 3,
    title: `What to tell your ${other(s)}`,
    lines: [
      `Read this to your ${other(s)}:`,
      ...ctx.addresses.flatMap((a) => [`   address ${a}   port ${port}`, `      (say: ${spoken(a)}, port ${port})`]),
      ...(ctx.addresses.length === 0 ? addrs : []),
      ...(allPrivate && ctx.addresses.length > 0
        ? ['', 'These addresses are private: from another network, forward port ' + port + ' on your router to this machine.']
        : []),
      '',
      reverseLine,
      firewall,
      s.off.mapPort ? `Ask my router to forward the port: ${TURNED_OFF}.` : s.mapPort ? 'Ask my router to forward the port: ON, for this session only (m: turn off).'
        : `Ask my router to forward the port: off (m: turn on${allPrivate && ctx.addresses.length > 0 ? ': these addresses are private' : ''}).`,
      ...meet,
      ...nameLine,
      ...problem,
    ],
    keys: 'Enter: wait   Tab: reverse   f: firewall   m: router   Esc: back   q: quit',
  };
}

/** The friend's steps 5 and 6: whether the screen is shared too, or why it cannot be. */
function desktopLine(s: WizardState): string[] {
  const note = s.desktopNote ? [s.desktopNote] : [];
  if (s.desktopAvailable) return [s.shareDesktop ? 'Your screen will be shared too. Press d to share only the shell.' : 'Press d to share your screen too.', ...note];
  return note;
}

function typingLine(s: WizardState): string {
  if (s.off.typing) return `Your helper will only watch: typing is ${TURNED_OFF}.`;
  return s.helperMayType
    ? 'Your helper will be able to type. Press v to let them only watch.'
    : 'Your helper will only watch. Press v to let them type.';
}

function verify(s: WizardState, ctx: ViewContext): Screen {
  const code = s.code ?? '?????';
  const spaced = code.split('').join(' ');
  const words = s.code ? codeWords(s.code).join('  ') : '';
  const who = s.peer ? `${s.peer.user} on ${s.peer.host}` : 'the other side';
  const others = s.others.length === 0 ? [] : [
    `Also connected: ${s.others.map((o) => `${o.user} on ${o.host}`).join(', ')}.`,
    s.role === 'friend' ? 'Only press y if your helper says this code matches.' : 'The code your friend reads tells which one is theirs.',
  ];
  if (s.role === 'friend') {
    const lines = [
      ...(s.seen ? seenLines(s.seen, who, ctx.now ?? Date.now()) : [`Connected to ${who}.`]),
      ...(ctx.helpersNote ? [ctx.helpersNote] : []),
      ...others,
      `Read this code aloud:   ${spaced}`,
      `In words:   ${words}`,
      '',
      s.localConfirmed
        ? (s.peerConfirmed ? 'Confirmed.' : 'Waiting for your helper to check the code...')
        : 'When your helper says the code matches, press y. If it does not match, press n.',
      typingLine(s),
      ...desktopLine(s),
    ];
    return {
      step: 5,
      title: 'Read the code to your helper',
      lines,
      big: s.code ? bigText(s.code) : undefined,
      spelled: s.code ? { at: lines.findIndex((l) => l.startsWith('In words:')), lines: ['Symbol by symbol:', ...spellCode(s.code)] } : undefined,
      keys: (s.localConfirmed ? 'v: who types   q: quit' : 'y: the helper says it matches   n: stop   v: who types') + (s.desktopAvailable ? '   d: screen' : ''),
    };
  }
  const check =
    s.codeCheck === 'match'
      ? ['The code matches. Ask your friend to press y.', s.peerConfirmed ? 'Your friend pressed y.' : 'Waiting for your friend to press y...']
      : s.codeCheck === 'mismatch'
        ? ['That code does NOT match. Maybe it was misheard: ask your friend to read it again slowly.',
          'If it still does not match, stop: someone may be in the middle.']
        : [];
  return {
    step: 5,
    title: 'Check the code',
    lines: [`Connected to ${who}.`, ...others, 'Ask your friend to read the code on their screen.', 'Type the five symbols you hear, then press Enter.', ...check,
      ...(s.problem ? ['', `Problem: ${s.problem.message}`] : [])],
    input: s.codeCheck === 'match' ? undefined : 'Code: ',
    keys: s.codeCheck === 'match' ? 'q: quit' : 'type the code + Enter   Ctrl-C: quit',
  };
}

function isPrivate(a: string): boolean {
  return /^(10\.|192\.168\.|172\.(1[6-9]|2\d|3[01])\.|127\.|169\.254\.|100\.(6[4-9]|[7-9]\d|1[01]\d|12[0-7])\.)/.test(a) ||
    /^(f[cd]|fe80|::1$)/i.test(a);
}
