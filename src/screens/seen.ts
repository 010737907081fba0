// What the friend's step 5 says about who is helping: a helper seen before (with the day and how
// many times), one never seen, or a name the friend knows arriving with another identity.
import type { Seen } from './wizard';

const MONTHS = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];

/** A day as the friend says it: "3 November", with the year when it is not this one. */
export function dayText(ms: number, now: number): string {
  const d = new Date(ms);
  const year = d.getFullYear() === new Date(now).getFullYear() ? '' : ` ${d.getFullYear()}`;
  return `${d.getDate()} ${MONTHS[d.getMonth()]}${year}`;
}

/** What the friend's step 5 says about who is helping (issue 19's words). */
export function seenLines(seen: Seen, who: string, now: number): string[] {
  switch (seen.kind) {
    case 'known': {
      const times = seen.sessions === 1 ? 'once' : `${seen.sessions} times`;
      const renamed = seen.before !== seen.name ? ` They called themselves "${seen.before}" then.` : '';
      return [`This is ${seen.name}, who helped you on ${dayText(seen.last, now)} (${times}).${renamed}`];
    }
    case 'new':
      return [`This says it is ${seen.name}. You have never been helped by this person before.`];
    case 'impostor':
      return [`WARNING: This says it is ${seen.name}, but it is not the ${seen.before} who helped you on ${dayText(seen.last, now)}.`,
        'If you did not ask this person for help yourself, press n.'];
    case 'anonymous':
      return [`Connected to ${who}, who does not say who they are. You have never been helped by them before.`];
  }
}
